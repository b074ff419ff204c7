/** A JSON object: not null, not an array (what `JSON.parse` gives for `{...}`). */
export const isObject = (v: unknown): v is Record<string, unknown> => typeof v === 'object' && v !== null && !Array.isArray(v);
