import { ACR, ACR_VALUES, acrSatisfies, type Acr } from '../assurance/level.ts';

/** The lower of two levels, by `assess`'s ranking (aal1 < aal2 < aal2:phr < aal3). */
export function lowerAcr(a: Acr, b: Acr): Acr {
  return acrSatisfies(a, b) ? b : a;
}

/** The lowest level of a list; null for an empty list (no way in is no weakness). */
export function lowestAcr(levels: Iterable<Acr>): Acr | null {
  let low: Acr | null = null;
  for (const level of levels) low = low === null ? level : lowerAcr(low, level);
  return low;
}

/** The highest level of a list; null for an empty list. */
export function highestAcr(levels: Iterable<Acr>): Acr | null {
  let high: Acr | null = null;
  for (const level of levels) high = high === null || acrSatisfies(level, high) ? level : high;
  return high;
}

/** True when `a` is strictly below `b`; `null` (no path) ranks above every level. */
export function acrBelow(a: Acr | null, b: Acr | null): boolean {
  if (a === null) return false;
  if (b === null) return true;
  return !acrSatisfies(a, b);
}

/** Reads `aal1`, `aal2`, `aal2:phr`, `aal3` or a full `urn:keybound:` value. */
export function parseAcr(text: string): Acr | null {
  const value = text.trim().toLowerCase();
  const full = value.startsWith('urn:keybound:') ? value : `urn:keybound:${value}`;
  return (ACR_VALUES as readonly string[]).includes(full) ? (full as Acr) : null;
}

/** The level a role's minimum sign-in level stands for. */
export function acrOfMinAal(minAal: 1 | 2): Acr {
  return minAal === 1 ? ACR.aal1 : ACR.aal2;
}

const WORDS: Readonly<Record<Acr, string>> = {
  [ACR.aal1]: 'AAL1: one factor; a single stolen or phished secret is enough',
  [ACR.aal2]: 'AAL2: two factors, but at least one way in can be phished',
  [ACR.aal2PhishingResistant]: 'AAL2, phishing-resistant: every way in needs a passkey or equally strong proof',
  [ACR.aal3]: 'AAL3: every way in needs a device-bound key in approved hardware',
};

/** A level in words, for people. */
export function acrInWords(acr: Acr | null): string {
  return acr === null ? 'No way in: the account cannot be signed in to or recovered by its holder' : WORDS[acr];
}

const NAMES: Readonly<Record<Acr, string>> = {
  [ACR.aal1]: 'AAL1',
  [ACR.aal2]: 'AAL2',
  [ACR.aal2PhishingResistant]: 'AAL2 (phishing-resistant)',
  [ACR.aal3]: 'AAL3',
};

/** A level's short name in sentences for people ("AAL2 (phishing-resistant)"). */
export function acrName(acr: Acr): string {
  return NAMES[acr];
}
