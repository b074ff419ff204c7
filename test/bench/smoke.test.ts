import { spawn } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';

/**
 * `npm run bench -- --quick` must keep working: it completes and every scenario line carries every
 * field with a sane type. Speed itself is measured by the benchmark, never asserted here.
 */
const ROOT = fileURLToPath(new URL('../../', import.meta.url));

type Line = Record<string, unknown>;

function runQuickBench(): Promise<{ code: number | null; lines: Line[]; stderr: string }> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, ['--import', 'tsx', 'bench/run.ts', '--quick'], { cwd: ROOT, stdio: ['ignore', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (chunk: Buffer) => (stdout += chunk.toString('utf8')));
    child.stderr.on('data', (chunk: Buffer) => (stderr = (stderr + chunk.toString('utf8')).slice(-20_000)));
    child.once('error', reject);
    child.once('exit', (code) => {
      try {
        const lines = stdout.split('\n').filter((l) => l.trim() !== '').map((l) => JSON.parse(l) as Line);
        resolve({ code, lines, stderr });
      } catch (error) {
        reject(new Error(`stdout is not JSON lines: ${(error as Error).message}\n${stdout}\n${stderr}`));
      }
    });
  });
}

const positive = (value: unknown) => typeof value === 'number' && Number.isFinite(value) && value > 0;
const nonNegative = (value: unknown) => typeof value === 'number' && Number.isFinite(value) && value >= 0;

function expectLatency(latency: unknown): void {
  const l = latency as Record<string, unknown>;
  for (const key of ['p50', 'p95', 'p99', 'max']) expect(positive(l[key]), `latencyMs.${key} = ${String(l[key])}`).toBe(true);
  expect((l.p50 as number) <= (l.p95 as number) && (l.p95 as number) <= (l.p99 as number) && (l.p99 as number) <= (l.max as number)).toBe(true);
}

function expectFields(line: Line, fields: Record<string, (value: unknown) => boolean>): void {
  for (const [field, check] of Object.entries(fields)) expect(check(line[field]), `${String(line.scenario)}/${String(line.target)}: ${field} = ${JSON.stringify(line[field])}`).toBe(true);
}

describe('npm run bench -- --quick', () => {
  it('completes and reports every field of every scenario', { timeout: 300_000 }, async () => {
    const { code, lines, stderr } = await runQuickBench();
    expect(code, stderr).toBe(0);
    expect(lines.length).toBeGreaterThan(0);

    for (const line of lines) {
      expectFields(line, {
        scenario: (v) => typeof v === 'string' && v.length > 0,
        node: (v) => typeof v === 'string' && /^v\d+\./.test(v),
        commit: (v) => typeof v === 'string' && (/^[0-9a-f]{40}$/.test(v) || v === 'unknown'),
        dirty: (v) => typeof v === 'boolean',
        date: (v) => typeof v === 'string' && !Number.isNaN(Date.parse(v)),
        // The offboard scenario always runs on PostgreSQL (two instances on one database).
        db: (v) => v === (line.scenario === 'offboard' ? 'postgres' : 'sqlite'),
        machine: (v) => {
          const m = v as Record<string, unknown>;
          return typeof m?.cpu === 'string' && positive(m.cores) && positive(m.memoryGb);
        },
      });
    }

    const find = (scenario: string, target?: string) => lines.filter((l) => l.scenario === scenario && (target === undefined || l.target === target));
    const [floor] = find('machine-floor');
    expect(floor, 'machine-floor').toBeDefined();
    expectFields(floor!, { httpRequestUs: positive, sqliteSignInUs: positive, ecdsaVerifyUs: positive, keyImportUs: positive, sha256Us: positive, signInFloorUs: positive });
    for (const target of ['keybound', 'better-auth']) {
      const signIns = find('passkey-sign-in', target);
      expect(signIns.map((l) => l.concurrency)).toEqual([1, 4]);
      for (const line of signIns) {
        expectFields(line, {
          accounts: positive,
          signIns: positive,
          errors: (v) => v === 0,
          durationS: positive,
          signInsPerSecond: positive,
          serverCpuUsPerSignIn: positive,
          serverCpuCores: nonNegative,
          serverPeakRssMb: positive,
          clientCpuCores: nonNegative,
          ...(target === 'keybound' ? { serverCpuOverFloor: positive } : {}),
        });
        expectLatency(line.latencyMs);
      }
      const [session] = find('session-check', target);
      expect(session, `session-check for ${target}`).toBeDefined();
      expectFields(session!, { requests: positive, errors: (v) => v === 0, requestsPerSecond: positive, serverCpuUsPerRequest: positive, serverPeakRssMb: positive });
      expectLatency(session!.latencyMs);
    }

    const ratios = find('passkey-sign-in-ratio');
    expect(ratios.map((l) => l.concurrency)).toEqual([1, 4]);
    for (const line of ratios) expectFields(line, { signInsPerSecondRatio: positive, cpuPerSignInRatio: positive });

    const scale = find('passkey-sign-in-scale', 'keybound');
    expect(scale).toHaveLength(2);
    for (const line of scale) {
      expectFields(line, { accounts: positive, seedSeconds: nonNegative, sampledAccounts: positive, signInsPerSecond: positive, serverCpuUsPerSignIn: positive, serverPeakRssMb: positive, errors: (v) => v === 0 });
      expectLatency(line.latencyMs);
    }
    expectFields(find('passkey-sign-in-scale-ratio')[0] ?? {}, { p99Ratio: positive, p50Ratio: positive, cpuPerSignInRatio: positive, largePeakRssMb: positive });

    // A feature missing from the tree is reported as skipped, never as a made-up number.
    const perScenario: Record<string, Record<string, (value: unknown) => boolean>> = {
      'totp-sign-in': { signIns: positive, signInsPerSecond: positive, serverCpuUsPerSignIn: positive },
      'client-credentials': { tokens: positive, tokensPerSecond: positive, serverCpuUsPerToken: positive, tokensPerServerCoreSecond: positive, dpop: (v) => typeof v === 'boolean' },
      'token-exchange': { tokens: positive, tokensPerSecond: positive, serverCpuUsPerToken: positive, tokensPerServerCoreSecond: positive, dpop: (v) => v === true },
      'api-key': { keys: positive, checks: positive, checksPerSecond: positive, serverCpuUsPerCheck: positive, checksPerServerCoreSecond: positive, cache: (v) => v === 'miss' },
      // The keybound/resource cache hit runs in the bench's own process: its CPU, and Keybound asked no more.
      'api-key-cached': { checks: positive, checksPerSecond: positive, cpuUsPerCheck: positive, cache: (v) => v === 'hit', introspections: (v) => v === 0 },
    };
    for (const [scenario, fields] of Object.entries(perScenario)) {
      const found = find(scenario);
      expect(found.length, scenario).toBeGreaterThan(0);
      for (const line of found) {
        if (typeof line.skipped === 'string') continue;
        expectFields(line, { ...fields, concurrency: positive, errors: (v) => v === 0, ...(scenario === 'api-key-cached' ? {} : { serverPeakRssMb: positive }) });
        expectLatency(line.latencyMs);
      }
    }

    // Client credentials run on Keybound and on oidc-provider alone (bench/floorOidc.ts, the
    // provider's own floor), each without and with DPoP.
    const tokenTargets = find('client-credentials').filter((l) => typeof l.skipped !== 'string').map((l) => `${String(l.target)} ${String(l.dpop)}`);
    expect(tokenTargets.sort()).toEqual(['keybound false', 'keybound true', 'oidc-provider-alone false', 'oidc-provider-alone true']);

    // Offboarding on two instances (skipped, with the reason, when PostgreSQL is not reachable).
    const offboard = find('offboard');
    expect(offboard.length, 'offboard').toBeGreaterThan(0);
    if (typeof offboard[0]!.skipped !== 'string') {
      expect(offboard.map((l) => l.command)).toEqual(['admin-api', 'cli']);
      const spread = (v: unknown) => {
        const s = v as Record<string, unknown>;
        return positive(s?.p50) && positive(s?.p99) && positive(s?.max) && (s.p50 as number) <= (s.p99 as number) && (s.p99 as number) <= (s.max as number);
      };
      for (const line of offboard) {
        // No timeout, no credential accepted after the command, no answer other than accept or refuse.
        expectFields(line, { accounts: positive, instances: (v) => v === 2, commandMs: spread, timeouts: (v) => v === 0, acceptedAfterCommand: (v) => v === 0, unexpectedAnswers: (v) => v === 0, targetMet: (v) => typeof v === 'boolean', accessTokenCheck: (v) => typeof v === 'string' && v.startsWith('userinfo') });
        const refusal = line.refusalMs as Record<string, Record<string, Record<string, unknown>>>;
        for (const instance of ['a', 'b']) {
          for (const check of ['session', 'refreshToken', 'accessTokenUserinfo']) {
            const s = refusal[instance]?.[check];
            expect(spread(s), `offboard ${String(line.command)} ${instance} ${check}: ${JSON.stringify(s)}`).toBe(true);
            expect(s!.refusedOnFirstRequest, `${instance} ${check}`).toBe(line.accounts);
          }
        }
      }
    }
  });
});
