/** Turning a measured phase into the figures of a scenario line. */
import type { PhaseResult } from './protocol.ts';

export interface Measured {
  readonly result: PhaseResult;
  readonly cpuSeconds: number;
  /** Share of that CPU time spent in the kernel (system calls: sockets, file writes). */
  readonly systemShare: number;
  readonly peakRssMb: number;
}

export const round = (n: number, digits = 1) => Math.round(n * 10 ** digits) / 10 ** digits;
const latency = (r: PhaseResult) => ({ p50: round(r.latencyMs.p50, 2), p95: round(r.latencyMs.p95, 2), p99: round(r.latencyMs.p99, 2), max: round(r.latencyMs.max, 2) });

/** What every measured phase reports besides its count, rate and CPU per operation. */
function common(m: Measured) {
  const seconds = m.result.elapsedMs / 1000;
  return {
    errors: m.result.errors,
    durationS: round(seconds, 2),
    latencyMs: latency(m.result),
    serverCpuCores: round(m.cpuSeconds / seconds, 2),
    serverSystemCpuShare: round(m.systemShare, 2),
    serverPeakRssMb: round(m.peakRssMb),
    clientCpuCores: round(m.result.clientCpuMs / m.result.elapsedMs, 2),
  };
}

const perSecond = (m: Measured) => round(m.result.ops / (m.result.elapsedMs / 1000));
const cpuUsPerOp = (m: Measured) => round((m.cpuSeconds / m.result.ops) * 1e6);

export function signInFigures(m: Measured) {
  return { signIns: m.result.ops, signInsPerSecond: perSecond(m), serverCpuUsPerSignIn: cpuUsPerOp(m), ...common(m) };
}

export function requestFigures(m: Measured) {
  return { requests: m.result.ops, requestsPerSecond: perSecond(m), serverCpuUsPerRequest: cpuUsPerOp(m), ...common(m) };
}

