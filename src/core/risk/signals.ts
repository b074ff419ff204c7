/**
 * Risk signals (issue 14): each a stable reason code, computed from plain facts by a small named
 * function. Pure: the services gather the facts (the account's recent sign-ins from the audit
 * trail, the place of an address from the city database) and pass them in.
 */

export const SIGNALS = [
  'new_device',
  'new_country',
  'impossible_travel',
  'privileged_action',
  'sensitive_client',
  'session_address_changed',
  'session_agent_changed',
  'failure_velocity',
  'sim_changed',
] as const;

export type Signal = (typeof SIGNALS)[number];

export const isSignal = (value: string): value is Signal => (SIGNALS as readonly string[]).includes(value);

/** Where an address is, from the city database; `null` fields where it does not say. */
export interface Place {
  readonly country: string | null;
  readonly city: string | null;
  readonly lat: number | null;
  readonly lon: number | null;
}

/** One earlier sign-in attempt of the account, as the audit trail recorded it. */
export interface PastSignIn {
  readonly at: number;
  readonly success: boolean;
  /** Why a failed one failed (its error code), when known. */
  readonly reason?: string | null;
  readonly passkey: string | null;
  /** Browser family (`agentFamily`, core/userAgent.ts), not the full user agent: a version update is not a new device. */
  readonly agent: string | null;
  readonly place: Place | null;
}

export interface SignalFacts {
  readonly now: number;
  /** The passkey used now, if any. */
  readonly passkey?: string | null;
  readonly agent?: string | null;
  readonly place?: Place | null;
  /** Earlier sign-ins, newest first (a bounded window: older ones are not looked at). */
  readonly history?: readonly PastSignIn[];
  /** Failures within `failureWindowMs` that make `failure_velocity`. */
  readonly failureMax?: number;
  readonly failureWindowMs?: number;
  readonly privileged?: boolean;
  readonly sensitiveClient?: boolean;
  /** The session in use, and what this request came with (session use only). */
  readonly session?: { readonly ip: string; readonly agent: string | null; readonly requestIp: string; readonly requestAgent: string | null };
  /** A SIM change of the account's phone was reported within the SIM-change window. */
  readonly simChanged?: boolean;
}

/** Fastest plausible travel between two sign-ins (issue 14: 1,000 km/h, a little more than an airliner). */
export const MAX_TRAVEL_KMH = 1000;
/** Closer than this, two places are the same as far as a city database can tell. */
const NEAR_KM = 100;

/** Great-circle distance in km (haversine, mean Earth radius 6371 km). */
export function distanceKm(a: { lat: number; lon: number }, b: { lat: number; lon: number }): number {
  const rad = Math.PI / 180;
  const dLat = (b.lat - a.lat) * rad;
  const dLon = (b.lon - a.lon) * rad;
  const h = Math.sin(dLat / 2) ** 2 + Math.cos(a.lat * rad) * Math.cos(b.lat * rad) * Math.sin(dLon / 2) ** 2;
  return 2 * 6371 * Math.asin(Math.min(1, Math.sqrt(h)));
}

const successes = (f: SignalFacts) => (f.history ?? []).filter((p) => p.success);

/**
 * The risk policy's own refusals are not failed attempts: the person proved the factor. Counted,
 * they would feed `failure_velocity` itself, and every try would prolong the refusal.
 */
const POLICY_REFUSALS: readonly (string | null | undefined)[] = ['risk_denied', 'step_up_required'];

/** Each signal's test, by name: table-driven tests run each one. */
export const SIGNAL_TESTS: Readonly<Record<Signal, (facts: SignalFacts) => boolean>> = {
  // The first sign-in of an account sets the baseline: with no earlier success there is nothing to be new against.
  new_device: (f) => {
    const past = successes(f);
    if (past.length === 0) return false;
    const newPasskey = !!f.passkey && !past.some((p) => p.passkey === f.passkey);
    const newAgent = !!f.agent && !past.some((p) => p.agent === f.agent);
    return newPasskey || newAgent;
  },
  new_country: (f) => {
    const country = f.place?.country;
    if (!country) return false;
    const known = successes(f).flatMap((p) => (p.place?.country ? [p.place.country] : []));
    return known.length > 0 && !known.includes(country);
  },
  impossible_travel: (f) => {
    const here = f.place;
    if (here?.lat == null || here.lon == null) return false;
    const last = successes(f).find((p) => p.place?.lat != null && p.place.lon != null);
    if (!last) return false;
    const km = distanceKm({ lat: here.lat, lon: here.lon }, { lat: last.place!.lat!, lon: last.place!.lon! });
    if (km < NEAR_KM) return false;
    const hours = Math.max(0, f.now - last.at) / 3_600_000;
    return hours === 0 || km / hours > MAX_TRAVEL_KMH;
  },
  privileged_action: (f) => f.privileged === true,
  sensitive_client: (f) => f.sensitiveClient === true,
  session_address_changed: (f) => !!f.session && f.session.ip !== f.session.requestIp,
  session_agent_changed: (f) => !!f.session && f.session.agent !== f.session.requestAgent,
  failure_velocity: (f) => {
    const max = f.failureMax ?? 0;
    if (max <= 0) return false;
    const since = f.now - (f.failureWindowMs ?? 0);
    return (f.history ?? []).filter((p) => !p.success && !POLICY_REFUSALS.includes(p.reason) && p.at >= since).length >= max;
  },
  sim_changed: (f) => f.simChanged === true,
};

/** Every signal the facts raise, in the order of `SIGNALS`. */
export function signalsOf(facts: SignalFacts): Signal[] {
  return SIGNALS.filter((s) => SIGNAL_TESTS[s](facts));
}
