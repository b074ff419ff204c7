import { Counter, Histogram, Registry, collectDefaultMetrics } from 'prom-client';

/** The server's Prometheus metrics, on a registry of its own (no global state). */
export interface Metrics {
  readonly registry: Registry;
  readonly signIns: Counter<'method' | 'result'>;
  readonly enrolments: Counter<'result'>;
  /** Refusals and failures logged as security events (http/securityEvents.ts, oidc/events.ts), by event and reason. */
  readonly securityEvents: Counter<'event' | 'reason'>;
  readonly httpDuration: Histogram<'method' | 'route' | 'status'>;
  /** Codes actually compared (after every limit let them through), by factor and `match`/`mismatch`. */
  readonly codeChecks: Counter<'factor' | 'result'>;
  readonly codeDeliveries: Counter<'channel' | 'result'>;
  /** Back-channel logout attempts (oidc/backchannel.ts): delivered, retry (failed, tried again later), failed (given up). */
  readonly backchannelLogouts: Counter<'result'>;
  /** Security Event Token attempts to Shared Signals streams (ssf/dispatch.ts): delivered, retry, failed (given up). */
  readonly ssfEvents: Counter<'result'>;
}

export function createMetrics(options: { processMetrics?: boolean } = {}): Metrics {
  const registry = new Registry();
  if (options.processMetrics ?? true) collectDefaultMetrics({ register: registry, prefix: 'keybound_' });
  return {
    registry,
    signIns: new Counter({
      name: 'keybound_sign_ins_total',
      help: 'Sign-in attempts by method and result (success, or the error code of the refusal).',
      labelNames: ['method', 'result'],
      registers: [registry],
    }),
    enrolments: new Counter({
      name: 'keybound_passkey_registrations_total',
      help: 'Passkey registrations by result (success, or the error code of the refusal).',
      labelNames: ['result'],
      registers: [registry],
    }),
    securityEvents: new Counter({
      name: 'keybound_security_events_total',
      help: 'Security events logged at warn level (refused authorization, rate limits, cross-site and invalid requests, failed client authentication), by event and reason (a stable code).',
      labelNames: ['event', 'reason'],
      registers: [registry],
    }),
    httpDuration: new Histogram({
      name: 'keybound_http_request_duration_seconds',
      help: 'HTTP request latency by method, route pattern and status.',
      labelNames: ['method', 'route', 'status'],
      buckets: [0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5],
      registers: [registry],
    }),
    codeChecks: new Counter({
      name: 'keybound_code_checks_total',
      help: 'One-time codes compared against an authenticator (guesses the limits let through), by factor and result (match, mismatch).',
      labelNames: ['factor', 'result'],
      registers: [registry],
    }),
    codeDeliveries: new Counter({
      name: 'keybound_code_deliveries_total',
      help: 'Codes and notices sent, by channel (sms, email) and result (sent, or the failure reason).',
      labelNames: ['channel', 'result'],
      registers: [registry],
    }),
    ssfEvents: new Counter({
      name: 'keybound_ssf_events_total',
      help: 'Security Event Token deliveries to Shared Signals streams, by result (delivered, retry, failed).',
      labelNames: ['result'],
      registers: [registry],
    }),
    backchannelLogouts: new Counter({
      name: 'keybound_backchannel_logouts_total',
      help: 'Back-channel logout token deliveries to OpenID clients, by result (delivered, retry, failed).',
      labelNames: ['result'],
      registers: [registry],
    }),
  };
}
