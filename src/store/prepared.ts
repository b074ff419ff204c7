import type { CompiledQuery, Compilable, Kysely, QueryResult } from 'kysely';
import type { Database } from './schema.ts';

/** Stands for argument `index` (or its field `key`) of a prepared statement while Kysely builds it. */
class Slot {
  constructor(
    readonly index: number,
    readonly key?: string,
  ) {}
}

interface Compiled {
  readonly query: CompiledQuery;
  /** Each parameter of the compiled SQL: an argument slot, or a constant of the statement. */
  readonly parameters: readonly unknown[];
}

const isRecord = (value: unknown): value is Record<string, unknown> =>
  typeof value === 'object' && value !== null && Object.getPrototypeOf(value) === Object.prototype;

/**
 * A statement that runs on every request, built and compiled by Kysely once per database dialect
 * instead of on every call. Kysely's builder and compiler cost more per call than SQLite takes to
 * run such a statement (`npm run bench` profiles). The SQL is exactly what the builder makes; only
 * the values change between calls.
 *
 * `build` receives placeholders in place of its arguments: it must hand them to Kysely as values
 * (in `where`, `set`, `values`, `sql` templates), never look at them or branch on them. An argument
 * that is a plain object (a row for `values`) stands for its fields, so every call must give it
 * the same fields; type it with all of them required.
 *
 * @example
 * const byId = prepared((db, id: string) => db.selectFrom('accounts').selectAll().where('id', '=', id));
 * const { rows } = await byId(db, 'a1b2');
 */
export function prepared<A extends unknown[], R>(build: (db: Kysely<Database>, ...args: A) => Compilable<R>): (db: Kysely<Database>, ...args: A) => Promise<QueryResult<R>> {
  // One compilation per dialect adapter (a database and all its transactions share one).
  const compiled = new WeakMap<object, Compiled>();
  return (db, ...args) => {
    const executor = db.getExecutor();
    let statement = compiled.get(executor.adapter);
    if (!statement) {
      const slots = args.map((arg, i) => (isRecord(arg) ? Object.fromEntries(Object.keys(arg).map((key) => [key, new Slot(i, key)])) : new Slot(i))) as A;
      const query = build(db, ...slots).compile();
      statement = { query, parameters: query.parameters };
      compiled.set(executor.adapter, statement);
    }
    const parameters = statement.parameters.map((p) => (p instanceof Slot ? (p.key === undefined ? args[p.index] : (args[p.index] as Record<string, unknown>)[p.key]) : p));
    const query = { ...statement.query, parameters } as CompiledQuery<R>;
    // Kysely's `executeQuery` wraps the connection's call in two more async functions and a pass of
    // the result through each plugin. Keybound installs none, and each promise costs more once the
    // provider's AsyncLocalStorage has turned on Node.js 20's promise hooks (BENCHMARKS.md, "sixth
    // look"): without plugins the statement runs on the connection the executor provides (a
    // transaction's own, or one from the pool), as `executeQuery` would run it. 419 -> 353 promises
    // a passkey sign-in, 237 -> 212 a client-credentials token.
    if (executor.plugins.length > 0) return db.executeQuery<R>(query);
    return executor.provideConnection((connection) => connection.executeQuery<R>(query));
  };
}
