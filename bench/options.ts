/** Command-line flags of `npm run bench`. */

export const SCENARIOS = ['floor', 'passkey', 'session', 'totp', 'client-credentials', 'token-exchange', 'api-key', 'scale', 'offboard'] as const;
export type ScenarioName = (typeof SCENARIOS)[number];

export interface BenchOptions {
  readonly quick: boolean;
  readonly db: 'sqlite' | 'postgres';
  readonly postgresUrl: string;
  readonly concurrency: readonly number[];
  /** Concurrency of the session-check, TOTP, client-credentials, token-exchange, api-key and scale scenarios. */
  readonly fixedConcurrency: number;
  readonly durationMs: number;
  readonly warmupMs: number;
  /** Upper bound of a warm-up that waits for every account to sign in once. */
  readonly warmupMaxMs: number;
  readonly accounts: number;
  readonly scaleAccounts: number;
  /** Accounts the load generator prepares keys for in the scale run (drawn at random). */
  readonly scaleSample: number;
  /** Accounts the offboard scenario offboards through the admin JSON API, and through the CLI. */
  readonly offboardAccounts: number;
  readonly offboardCliAccounts: number;
  readonly scenarios: ReadonlySet<ScenarioName>;
  readonly peer: boolean;
  readonly cpuProfDir: string | undefined;
  readonly updateBenchmarks: boolean;
  readonly keep: boolean;
  /** Extra KEYBOUND_* settings for every Keybound server of the run (`--server-env`). */
  readonly serverEnv: Readonly<Record<string, string>>;
  /** Each Keybound server answers one OpenID Connect request before it is measured (`--oidc-first`). */
  readonly oidcFirst: boolean;
}

export const USAGE = `npm run bench -- [flags]

  --quick                 smoke run, under a minute (small database, short phases)
  --db sqlite|postgres    Keybound's database (default sqlite; the peer always uses SQLite)
  --postgres-url URL      PostgreSQL server for --db postgres (default $KEYBOUND_TEST_POSTGRES_URL
                          or postgres://postgres@127.0.0.1:5432/test; a fresh schema per database)
  --concurrency 1,16,64   concurrent virtual users of the passkey sign-in scenario
  --fixed-concurrency 16  concurrency of the session, TOTP, client-credentials, token-exchange,
                          api-key and scale scenarios
  --duration 10           seconds measured per phase
  --warmup 3              seconds of warm-up per phase
  --accounts 10000        accounts seeded for the passkey, session and peer scenarios
  --scale-accounts 1000000  accounts of the large run of the scale scenario
  --scale-sample 60000    accounts of the large run that sign in (at random; more than Keybound's
                          10,000-key cache holds, so the cache cannot hide the size)
  --offboard-accounts 200 accounts the offboard scenario offboards through the admin JSON API
  --offboard-cli-accounts 10  and through \`keybound accounts offboard\` (a process each, 1–2 s);
                          the offboard scenario always runs two Keybound processes on PostgreSQL
                          (--postgres-url), whatever --db says
  --scenarios LIST        any of ${SCENARIOS.join(', ')} (default: all)
  --no-peer               leave Better Auth out
  --cpu-prof DIR          run the servers under node --cpu-prof, profiles into DIR
  --update-benchmarks     write the results table into BENCHMARKS.md
  --keep                  keep the databases (printed on stderr)
  --server-env K=V,...    extra KEYBOUND_* settings for the Keybound servers, e.g.
                          KEYBOUND_PASSKEY_KEY_CACHE=0 (recorded in every JSON line)
  --oidc-first            each Keybound server answers one OpenID Connect discovery request before
                          it is measured, as a server with relying parties has (recorded in every
                          JSON line; BENCHMARKS.md "eighth look" says why it can matter)`;

export function parseOptions(argv: readonly string[]): BenchOptions {
  const flags = new Map<string, string | true>();
  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i]!;
    if (!arg.startsWith('--')) throw new Error(`unexpected argument ${arg}\n\n${USAGE}`);
    const [name, inline] = arg.slice(2).split('=', 2) as [string, string | undefined];
    const takesValue = !['quick', 'no-peer', 'update-benchmarks', 'keep', 'help', 'oidc-first'].includes(name);
    if (!takesValue) flags.set(name, true);
    else flags.set(name, inline ?? argv[++i] ?? '');
  }
  if (flags.has('help')) {
    process.stdout.write(`${USAGE}\n`);
    process.exit(0);
  }
  const known = ['quick', 'db', 'postgres-url', 'concurrency', 'fixed-concurrency', 'duration', 'warmup', 'accounts', 'scale-accounts', 'scale-sample', 'offboard-accounts', 'offboard-cli-accounts', 'scenarios', 'no-peer', 'cpu-prof', 'update-benchmarks', 'keep', 'server-env', 'oidc-first'];
  for (const name of flags.keys()) if (!known.includes(name)) throw new Error(`unknown flag --${name}\n\n${USAGE}`);
  const quick = flags.has('quick');
  const text = (name: string) => {
    const value = flags.get(name);
    return typeof value === 'string' ? value : undefined;
  };
  const positive = (name: string, fallback: number, { integer = true } = {}) => {
    const value = text(name);
    if (value === undefined) return fallback;
    const n = Number(value);
    if (!Number.isFinite(n) || n <= 0 || (integer && !Number.isInteger(n))) throw new Error(`--${name} must be a positive ${integer ? 'whole ' : ''}number`);
    return n;
  };
  const db = text('db') ?? 'sqlite';
  if (db !== 'sqlite' && db !== 'postgres') throw new Error('--db must be sqlite or postgres');
  const concurrency = (text('concurrency') ?? (quick ? '1,4' : '1,16,64')).split(',').map((c) => {
    const n = Number(c);
    if (!Number.isInteger(n) || n < 1 || n > 1024) throw new Error('--concurrency takes whole numbers from 1 to 1024, comma-separated');
    return n;
  });
  const scenarios = new Set<ScenarioName>();
  for (const name of (text('scenarios') ?? SCENARIOS.join(',')).split(',')) {
    if (!(SCENARIOS as readonly string[]).includes(name)) throw new Error(`--scenarios: unknown scenario ${name} (known: ${SCENARIOS.join(', ')})`);
    scenarios.add(name as ScenarioName);
  }
  const serverEnv: Record<string, string> = {};
  for (const pair of (text('server-env') ?? '').split(',').filter(Boolean)) {
    const [key, ...rest] = pair.split('=');
    if (!key || !/^KEYBOUND_[A-Z0-9_]+$/.test(key) || rest.length === 0) throw new Error('--server-env takes KEYBOUND_NAME=value pairs, comma-separated');
    serverEnv[key] = rest.join('=');
  }
  const accounts = positive('accounts', quick ? 200 : 10_000);
  const scaleAccounts = positive('scale-accounts', quick ? 2_000 : 1_000_000);
  return {
    quick,
    db,
    postgresUrl: text('postgres-url') ?? process.env.KEYBOUND_TEST_POSTGRES_URL ?? 'postgres://postgres@127.0.0.1:5432/test',
    concurrency,
    fixedConcurrency: positive('fixed-concurrency', quick ? 4 : 16),
    durationMs: positive('duration', quick ? 0.6 : 10, { integer: false }) * 1000,
    warmupMs: positive('warmup', quick ? 0.2 : 3, { integer: false }) * 1000,
    warmupMaxMs: quick ? 1_000 : 30_000,
    accounts,
    scaleAccounts,
    scaleSample: Math.min(scaleAccounts, positive('scale-sample', quick ? 2_000 : 60_000)),
    offboardAccounts: positive('offboard-accounts', quick ? 5 : 200),
    offboardCliAccounts: positive('offboard-cli-accounts', quick ? 1 : 10),
    scenarios,
    peer: !flags.has('no-peer'),
    cpuProfDir: text('cpu-prof'),
    updateBenchmarks: flags.has('update-benchmarks'),
    keep: flags.has('keep'),
    serverEnv,
    oidcFirst: flags.has('oidc-first'),
  };
}
