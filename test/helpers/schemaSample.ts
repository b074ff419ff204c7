/**
 * A body that passes a route's JSON schema, so a request reaches the route's gate rather than
 * stopping at validation (the recovery and migration session tests send one to every route).
 */
export function sample(schema: unknown): unknown {
  const s = schema as { type?: string; enum?: unknown[]; const?: unknown; anyOf?: unknown[]; minLength?: number; minProperties?: number; required?: string[]; properties?: Record<string, unknown>; items?: unknown; minimum?: number } | undefined;
  if (!s) return undefined;
  if (s.const !== undefined) return s.const;
  if (s.enum) return s.enum[0];
  if (s.anyOf) return sample(s.anyOf[0]);
  if (s.type === 'object') {
    const keys = s.required?.length ? s.required : Object.keys(s.properties ?? {}).slice(0, s.minProperties ?? 0);
    return Object.fromEntries(keys.map((k) => [k, sample(s.properties?.[k])]));
  }
  if (s.type === 'string') return 'x'.repeat(Math.max(s.minLength ?? 1, 16));
  if (s.type === 'array') return [sample(s.items)];
  if (s.type === 'integer' || s.type === 'number') return Math.max(s.minimum ?? 1, 600);
  if (s.type === 'boolean') return false;
  return {};
}
