/**
 * What a person types is not always what the authenticator showed: spaces from copying a grouped
 * code ("123 456") are removed. Anything else that is not an ASCII digit is refused before any code
 * is checked, so a malformed entry never costs a guess.
 *
 * @returns the digits, or `null` when the entry is not `digits` ASCII digits once spaces are removed.
 */
export function normaliseNumericCode(input: string, digits: number): string | null {
  const compact = input.replace(/[\s\u00a0]+/g, '');
  return compact.length === digits && /^[0-9]+$/.test(compact) ? compact : null;
}
