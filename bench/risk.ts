/**
 * CPU the risk policy adds to one passkey sign-in (issue 14: at most 50 µs), measured in-process:
 * what `assessSignIn` (services/risk/evaluate.ts) does besides its one database read — the
 * user-agent family, the city lookup, the signals over the account's recent sign-ins, and the
 * default rules — with a city database of `--networks` entries, and the same without a database.
 *
 *   npx tsx bench/risk.ts [--iterations 20000] [--networks 20000] [--only with|without]
 *
 * `--only` measures one configuration and nothing else: under valgrind's callgrind, two runs with
 * different `--iterations` give the engine's instructions per sign-in from their difference
 * (BENCHMARKS.md, "Instructions per passkey sign-in").
 *
 * The database read of the history signals (one indexed `audit_events` query) is not in this figure:
 * it is part of the sign-in's SQL, which `npm run bench` measures end to end.
 */
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ACR } from '../src/core/assurance/level.ts';
import { evaluate } from '../src/core/risk/engine.ts';
import { signalsOf, type PastSignIn } from '../src/core/risk/signals.ts';
import { agentFamily } from '../src/core/userAgent.ts';
import { loadConfig } from '../src/config/load.ts';
import { riskSetup, type RiskSetup } from '../src/services/risk/setup.ts';
import { buildCityDb, cityRecord } from '../test/helpers/mmdb.ts';

const arg = (name: string, fallback: number) => {
  const i = process.argv.indexOf(`--${name}`);
  return i > 0 ? Number(process.argv[i + 1]) : fallback;
};
const iterations = arg('iterations', 20_000);
const networks = arg('networks', 20_000);

// A city database of `networks` /24 networks over 1.0.0.0 – 100.255.255.0, in a few hundred cities.
const entries: Record<string, ReturnType<typeof cityRecord>> = {};
for (let i = 0; i < networks; i++) {
  const n = Math.floor((i * 0x64ffff) / networks) + 0x010000;
  entries[`${n >> 16}.${(n >> 8) & 255}.${n & 255}.0/24`] = cityRecord(['GB', 'FR', 'US', 'DE', 'JP'][i % 5]!, `City ${i % 300}`, (i % 170) - 85, (i % 350) - 175);
}
const dir = mkdtempSync(join(tmpdir(), 'keybound-bench-risk-'));
// The city database is read into memory when loaded; its folder goes when the process ends, however it ends.
process.once('exit', () => rmSync(dir, { recursive: true, force: true }));
const dbPath = join(dir, 'city.mmdb');
writeFileSync(dbPath, buildCityDb(entries));

const UA = 'Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/120.0.0.0 Safari/537.36';
const history: PastSignIn[] = Array.from({ length: 20 }, (_, i) => ({ at: 1_000_000 - i * 3_600_000, success: i % 4 !== 3, passkey: 'pk1', agent: 'Chrome on Linux', place: { country: 'GB', city: 'London', lat: 51.5, lon: -0.13 } }));

/** An address inside the i-th network (every one is placed), as a real sign-in mostly would be. */
const addressOf = (i: number) => {
  const n = Math.floor(((i % networks) * 0x64ffff) / networks) + 0x010000;
  return `${n >> 16}.${(n >> 8) & 255}.${n & 255}.7`;
};

/** The CPU part of `assessSignIn`, on the same inputs every time but for the address. */
function assess(risk: RiskSetup, i: number) {
  const now = 1_000_000 + i;
  const place = risk.placeOf?.(addressOf(i)) ?? null;
  const signals = signalsOf({ now, passkey: 'pk1', agent: agentFamily(UA), place, failureMax: 5, failureWindowMs: 900_000, ...(risk.historySignals.length > 0 ? { history, simChanged: false } : {}) });
  return evaluate([risk.check], { event: 'sign_in', signals, role: 'member', client: null, factor: 'passkey', auth: { acr: ACR.aal2PhishingResistant, authTime: now }, now });
}

function measure(label: string, risk: RiskSetup): number {
  for (let i = 0; i < 2000; i++) assess(risk, i); // warm up
  const start = process.cpuUsage();
  let denied = 0;
  for (let i = 0; i < iterations; i++) if (assess(risk, i).decision !== 'allow') denied++;
  const used = process.cpuUsage(start);
  const us = (used.user + used.system) / iterations;
  process.stdout.write(`${label}: ${us.toFixed(2)} µs CPU per sign-in (${iterations} sign-ins, ${denied} not allowed)\n`);
  return us;
}

const base = { KEYBOUND_DATABASE_URL: 'sqlite::memory:' };
const only = process.argv.includes('--only') ? process.argv[process.argv.indexOf('--only') + 1] : null;
if (only === 'with' || only === 'without') {
  measure(only, riskSetup(loadConfig(only === 'with' ? { ...base, KEYBOUND_GEOIP_DB: dbPath } : base)));
  process.exit(0);
}
const without = measure('default policy, no city database', riskSetup(loadConfig(base)));
const withDb = measure(`default policy, city database of ${networks} networks`, riskSetup(loadConfig({ ...base, KEYBOUND_GEOIP_DB: dbPath })));
const setup = riskSetup(loadConfig({ ...base, KEYBOUND_GEOIP_DB: dbPath }));
let placed = 0;
for (let i = 0; i < iterations; i++) if (setup.placeOf!(addressOf(i))) placed++;
process.stdout.write(`addresses the database placed: ${placed} of ${iterations}\n`);
process.stdout.write(`engine cost with the city database: ${withDb.toFixed(2)} µs (target ≤ 50 µs); without: ${without.toFixed(2)} µs\n`);
