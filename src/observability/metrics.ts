import { Counter, Histogram, Registry, collectDefaultMetrics } from 'prom-client';

/** The server's Prometheus metrics, on a registry of its own (no global state). */
export interface Metrics {
  readonly registry: Registry;
  readonly signIns: Counter<'method' | 'result'>;
  readonly enrolments: Counter<'result'>;
  readonly httpDuration: Histogram<'method' | 'route' | 'status'>;
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
    httpDuration: new Histogram({
      name: 'keybound_http_request_duration_seconds',
      help: 'HTTP request latency by method, route pattern and status.',
      labelNames: ['method', 'route', 'status'],
      buckets: [0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5],
      registers: [registry],
    }),
  };
}
