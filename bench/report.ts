/** What every scenario line carries about the run, and the Markdown table of a run's lines. */
import { execFileSync } from 'node:child_process';
import { availableParallelism, cpus, totalmem } from 'node:os';
import { ROOT } from './processes.ts';

export interface RunMeta {
  readonly machine: { readonly cpu: string; readonly cores: number; readonly memoryGb: number };
  readonly node: string;
  readonly commit: string;
  /** Whether the working tree had uncommitted changes (the figures then describe more than `commit`). */
  readonly dirty: boolean;
  readonly date: string;
}

export function runMeta(): RunMeta {
  const git = (args: string[]) => {
    try {
      return execFileSync('git', args, { cwd: ROOT, encoding: 'utf8', stdio: ['ignore', 'pipe', 'ignore'] }).trim();
    } catch {
      return '';
    }
  };
  return {
    machine: { cpu: cpus()[0]?.model.trim() ?? 'unknown', cores: availableParallelism(), memoryGb: Math.round(totalmem() / 2 ** 30) },
    node: process.version,
    commit: git(['rev-parse', 'HEAD']) || 'unknown',
    dirty: git(['status', '--porcelain', '--untracked-files=no']).length > 0,
    date: new Date().toISOString(),
  };
}

/** One JSON line per scenario (and concurrency). */
export type ScenarioLine = Record<string, unknown> & { scenario: string; target?: string; skipped?: string };

const fmt = (n: unknown, digits = 0): string => (typeof n === 'number' && Number.isFinite(n) ? n.toLocaleString('en-US', { maximumFractionDigits: digits, minimumFractionDigits: digits }) : '–');

/** The results table of BENCHMARKS.md. */
export function markdownTable(lines: readonly ScenarioLine[], meta: RunMeta, settings: string): string {
  const out: string[] = [];
  out.push(`Run of ${meta.date.slice(0, 16).replace('T', ' ')} UTC, commit \`${meta.commit.slice(0, 10)}\`${meta.dirty ? ' (with uncommitted changes)' : ''}, ${meta.machine.cpu}, ${meta.machine.cores} cores, Node.js ${meta.node}; ${settings}.`);
  out.push('');
  const floor = lines.find((l) => l.scenario === 'machine-floor' && !l.skipped);
  if (floor) {
    out.push(
      `Machine floor (no framework, no query builder): bare node:http ${fmt(floor.httpRequestUs)} µs of server CPU per request; a sign-in's SQL on better-sqlite3 ${fmt(floor.sqliteSignInUs)} µs; ECDSA P-256 verification ${fmt(floor.ecdsaVerifyUs)} µs (key import ${fmt(floor.keyImportUs)} µs); SHA-256 ${fmt(floor.sha256Us, 1)} µs. A passkey sign-in (two requests, its SQL, one verification, four hashes) cannot cost less than **${fmt(floor.signInFloorUs)} µs** here.`,
      '',
    );
  }
  const passkey = lines.filter((l) => l.scenario === 'passkey-sign-in' && !l.skipped);
  if (passkey.length > 0) {
    out.push('| Passkey sign-in | Concurrency | Sign-ins/s | p50 ms | p95 ms | p99 ms | Server CPU µs/sign-in | × floor | Server peak RSS MB |');
    out.push('|---|---:|---:|---:|---:|---:|---:|---:|---:|');
    for (const l of passkey) {
      out.push(`| ${l.target} | ${l.concurrency} | ${fmt(l.signInsPerSecond)} | ${fmt((l.latencyMs as Record<string, number>).p50, 1)} | ${fmt((l.latencyMs as Record<string, number>).p95, 1)} | ${fmt((l.latencyMs as Record<string, number>).p99, 1)} | ${fmt(l.serverCpuUsPerSignIn)} | ${fmt(l.serverCpuOverFloor, 2)} | ${fmt(l.serverPeakRssMb)} |`);
    }
    out.push('');
  }
  const ratios = lines.filter((l) => l.scenario === 'passkey-sign-in-ratio' && !l.skipped);
  if (ratios.length > 0) {
    out.push('| Keybound ÷ Better Auth | Concurrency | Sign-ins/s ratio | CPU per sign-in ratio (Better Auth ÷ Keybound) |');
    out.push('|---|---:|---:|---:|');
    for (const l of ratios) out.push(`| passkey sign-in | ${l.concurrency} | ${fmt(l.signInsPerSecondRatio, 1)}× | ${fmt(l.cpuPerSignInRatio, 1)}× |`);
    out.push('');
  }
  const session = lines.filter((l) => l.scenario === 'session-check' && !l.skipped);
  if (session.length > 0) {
    out.push('| Session check | Concurrency | Requests/s | p50 ms | p99 ms | Server CPU µs/request |');
    out.push('|---|---:|---:|---:|---:|---:|');
    for (const l of session) {
      out.push(`| ${l.target} | ${l.concurrency} | ${fmt(l.requestsPerSecond)} | ${fmt((l.latencyMs as Record<string, number>).p50, 1)} | ${fmt((l.latencyMs as Record<string, number>).p99, 1)} | ${fmt(l.serverCpuUsPerRequest)} |`);
    }
    out.push('');
  }
  const scale = lines.filter((l) => l.scenario === 'passkey-sign-in-scale' && !l.skipped);
  if (scale.length > 0) {
    out.push('| Scale (Keybound) | Accounts | Seeding s | Concurrency | Sign-ins/s | p50 ms | p99 ms | Server CPU µs/sign-in | Server peak RSS MB |');
    out.push('|---|---:|---:|---:|---:|---:|---:|---:|---:|');
    for (const l of scale) {
      out.push(`| ${l.db} | ${fmt(l.accounts)} | ${fmt(l.seedSeconds, 1)} | ${l.concurrency} | ${fmt(l.signInsPerSecond)} | ${fmt((l.latencyMs as Record<string, number>).p50, 1)} | ${fmt((l.latencyMs as Record<string, number>).p99, 1)} | ${fmt(l.serverCpuUsPerSignIn)} | ${fmt(l.serverPeakRssMb)} |`);
    }
    const ratio = lines.find((l) => l.scenario === 'passkey-sign-in-scale-ratio' && !l.skipped);
    if (ratio) out.push('', `p99 at ${fmt(ratio.largeAccounts)} accounts ÷ p99 at ${fmt(ratio.smallAccounts)}: **${fmt(ratio.p99Ratio, 2)}**.`);
    out.push('');
  }
  const tokens = lines.filter((l) => (l.scenario === 'client-credentials' || l.scenario === 'token-exchange') && !l.skipped);
  if (tokens.length > 0) {
    out.push('| Client credentials, token exchange (Keybound unless said) | Concurrency | Tokens/s | p50 ms | p99 ms | Server CPU µs/token | Tokens per server core-second |');
    out.push('|---|---:|---:|---:|---:|---:|---:|');
    for (const l of tokens) {
      out.push(`| ${l.target === 'oidc-provider-alone' ? 'oidc-provider alone (floor: in memory, no audit), ' : ''}${l.scenario === 'token-exchange' ? 'token exchange (agent), ' : ''}${l.clientAuth}${l.dpop ? ' + DPoP' : ''}, ${l.accessToken} access token | ${l.concurrency} | ${fmt(l.tokensPerSecond)} | ${fmt((l.latencyMs as Record<string, number>).p50, 1)} | ${fmt((l.latencyMs as Record<string, number>).p99, 1)} | ${fmt(l.serverCpuUsPerToken)} | ${fmt(l.tokensPerServerCoreSecond)} |`);
    }
    out.push('');
  }
  const keyChecks = lines.filter((l) => (l.scenario === 'api-key' || l.scenario === 'api-key-cached') && !l.skipped);
  if (keyChecks.length > 0) {
    out.push('| API-key check | Concurrency | Checks/s | p50 ms | p99 ms | CPU µs/check | Checks per core-second |');
    out.push('|---|---:|---:|---:|---:|---:|---:|');
    for (const l of keyChecks) {
      const latency = l.latencyMs as Record<string, number>;
      const cpu = (l.scenario === 'api-key' ? l.serverCpuUsPerCheck : l.cpuUsPerCheck) as number;
      const what = l.scenario === 'api-key' ? 'RFC 7662 introspection at Keybound (cache miss), Keybound CPU' : 'keybound/resource cache hit, in the resource server, its CPU (Keybound not asked)';
      out.push(`| ${what} | ${fmt(l.concurrency ?? 1)} | ${fmt(l.checksPerSecond)} | ${fmt(latency.p50, l.scenario === 'api-key' ? 1 : 3)} | ${fmt(latency.p99, l.scenario === 'api-key' ? 1 : 3)} | ${fmt(cpu, l.scenario === 'api-key' ? 0 : 1)} | ${fmt(1e6 / cpu)} |`);
    }
    out.push('');
  }
  const totp = lines.filter((l) => l.scenario === 'totp-sign-in' && !l.skipped);
  if (totp.length > 0) {
    out.push('| TOTP sign-in (Keybound) | Concurrency | Sign-ins/s | p50 ms | p99 ms | Server CPU µs/sign-in |');
    out.push('|---|---:|---:|---:|---:|---:|');
    for (const l of totp) out.push(`| start + verify | ${l.concurrency} | ${fmt(l.signInsPerSecond)} | ${fmt((l.latencyMs as Record<string, number>).p50, 1)} | ${fmt((l.latencyMs as Record<string, number>).p99, 1)} | ${fmt(l.serverCpuUsPerSignIn)} |`);
    out.push('');
  }
  const offboard = lines.filter((l) => l.scenario === 'offboard' && !l.skipped);
  if (offboard.length > 0) out.push(offboardTable(offboard), '');
  const known = ['machine-floor', 'passkey-sign-in', 'passkey-sign-in-ratio', 'session-check', 'passkey-sign-in-scale', 'passkey-sign-in-scale-ratio', 'client-credentials', 'token-exchange', 'api-key', 'api-key-cached', 'totp-sign-in', 'offboard'];
  const others = lines.filter((l) => l.skipped || !known.includes(l.scenario));
  for (const l of others) {
    if (l.skipped) out.push(`- ${l.scenario}: skipped (${l.skipped}).`);
    else out.push(`- ${l.scenario} (${l.target ?? 'keybound'}, concurrency ${l.concurrency}): ${Object.entries(l).filter(([k]) => /PerSecond|PerToken|PerSignIn|Ms$/.test(k)).map(([k, v]) => `${k} ${typeof v === 'object' ? JSON.stringify(v) : fmt(v, 1)}`).join(', ')}.`);
  }
  return out.join('\n');
}

type Spread = { p50: number; p99: number; max: number };
const spreadText = (s: Spread) => `${fmt(s.p50, 1)} / ${fmt(s.p99, 1)} / ${fmt(s.max, 1)}`;

/** The offboard scenario (bench/offboard.ts): one row per command and instance. */
function offboardTable(lines: readonly ScenarioLine[]): string {
  const out = [
    '| Offboard, 2 instances, PostgreSQL | Accounts | Command ms (p50 / p99 / max) | Instance | Session refused after, ms | Refresh token refused after, ms | Opaque access token refused at userinfo after, ms | Refused on first request | p99 ≤ 1,000 ms, no timeout |',
    '|---|---:|---:|---|---:|---:|---:|---:|---|',
  ];
  for (const l of lines) {
    const refusal = l.refusalMs as Record<'a' | 'b', Record<'session' | 'refreshToken' | 'accessTokenUserinfo', Spread & { refusedOnFirstRequest: number }>>;
    for (const name of ['a', 'b'] as const) {
      const r = refusal[name];
      const first = r.session.refusedOnFirstRequest + r.refreshToken.refusedOnFirstRequest + r.accessTokenUserinfo.refusedOnFirstRequest;
      const verdict = l.targetMet ? 'met' : `**missed** (worst p99 ${fmt(l.worstP99Ms, 1)} ms, ${fmt(l.timeouts)} timeouts, ${fmt(l.acceptedAfterCommand)} accepted after)`;
      out.push(
        `| ${l.command === 'cli' ? '`keybound accounts offboard`' : 'admin JSON API'} | ${fmt(l.accounts)} | ${spreadText(l.commandMs as Spread)} | ${name.toUpperCase()} | ${spreadText(r.session)} | ${spreadText(r.refreshToken)} | ${spreadText(r.accessTokenUserinfo)} | ${fmt(first)} of ${fmt(3 * (l.accounts as number))} | ${verdict} |`,
      );
    }
  }
  return out.join('\n');
}
