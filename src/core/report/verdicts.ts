import type { ControlStatus, Verdict } from './model.ts';

/** Small helpers the rules share. */
export const verdict = (status: ControlStatus, ...evidence: string[]): Verdict => ({ status, evidence });
export const plural = (n: number, one: string, many = `${one}s`) => `${n} ${n === 1 ? one : many}`;
export const hours = (ms: number) => `${+(ms / 3_600_000).toFixed(2)} h`;
export const minutes = (ms: number) => `${+(ms / 60_000).toFixed(2)} min`;
