import { compareCapabilities, type Capability } from './capabilities.ts';

/** A set of capabilities that together open a path; a path lists its minimal ones. */
export type CapabilitySet = readonly Capability[];

function canonical(set: Iterable<Capability>): Capability[] {
  return [...new Set(set)].sort(compareCapabilities);
}

function contains(outer: CapabilitySet, inner: CapabilitySet): boolean {
  return inner.every((c) => outer.includes(c));
}

function compareSets(a: CapabilitySet, b: CapabilitySet): number {
  if (a.length !== b.length) return a.length - b.length;
  for (let i = 0; i < a.length; i++) {
    const d = compareCapabilities(a[i]!, b[i]!);
    if (d !== 0) return d;
  }
  return 0;
}

/**
 * Keeps only the minimal sets (no set kept contains another), each in catalogue order, smallest
 * first: an attacker who can do a superset can already do the smaller one, so it adds nothing.
 */
export function minimalSets(sets: readonly CapabilitySet[]): CapabilitySet[] {
  const sorted = sets.map(canonical).sort(compareSets);
  const kept: Capability[][] = [];
  for (const set of sorted) {
    if (!kept.some((k) => contains(set, k))) kept.push(set);
  }
  return kept;
}

/**
 * What opens a path that needs every one of several proofs: for each proof one of its ways to
 * defeat it, so the union of one choice per proof, minimised.
 */
export function allOf(proofs: readonly (readonly CapabilitySet[])[]): CapabilitySet[] {
  let acc: CapabilitySet[] = [[]];
  for (const ways of proofs) {
    const next: CapabilitySet[] = [];
    for (const a of acc) for (const w of ways) next.push([...a, ...w]);
    acc = minimalSets(next);
  }
  return acc;
}

/** Adds the same capability to every set (a safeguard the attacker must also beat). */
export function withEach(sets: readonly CapabilitySet[], extra: Capability): CapabilitySet[] {
  return minimalSets(sets.map((s) => [...s, extra]));
}
