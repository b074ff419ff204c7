/**
 * Limits against a real server process (issue 5): request bodies and headers beyond their limits get
 * 413 and 431 with registered codes; a slow client (headers or body trickled a byte at a time) is cut
 * off after KEYBOUND_REQUEST_TIMEOUT while other clients are served; idle and kept-alive connections
 * are closed after their timeouts. Then a run of hostile requests and raw garbage against the process,
 * which must stay up and answer every one with a 4xx from the registry.
 */
import fc from 'fast-check';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { errorStatus, isErrorCode } from '../../src/core/errors.ts';
import { ORIGIN } from '../helpers/constants.ts';
import { startServer, type ServerProcess } from '../helpers/server.ts';
import { Client } from './support/client.ts';
import { RawConnection } from './support/raw.ts';
import { record, Tally } from './support/report.ts';
import { bodyRecipe, bodyRequest } from './fuzz/requests.ts';
import { judge } from './fuzz/judge.ts';

const REQUEST_TIMEOUT_S = 2;
const KEEP_ALIVE_S = 1;
const BODY_LIMIT = 8192;
/** Slack for a busy two-core machine on top of a configured timeout. */
const MARGIN_MS = 3_000;


describe('limits on a real server', () => {
  let server: ServerProcess;
  beforeAll(async () => {
    server = await startServer({
      env: {
        KEYBOUND_ORIGIN: ORIGIN,
        KEYBOUND_BODY_LIMIT: String(BODY_LIMIT),
        KEYBOUND_REQUEST_TIMEOUT: String(REQUEST_TIMEOUT_S),
        KEYBOUND_KEEP_ALIVE_TIMEOUT: String(KEEP_ALIVE_S),
      },
    });
  });
  afterAll(async () => server?.stop());

  const request = (head: string, body = '') => `${head}\r\nHost: localhost\r\n${body ? `Content-Length: ${Buffer.byteLength(body)}\r\n` : ''}\r\n${body}`;

  it('refuses bodies over KEYBOUND_BODY_LIMIT with 413, declared or streamed', async ({ task }) => {
    const tally = new Tally();
    const client = new Client(server.baseUrl, { tally, origin: ORIGIN });
    const over = await client.post('/api/v1/passkeys/authentication/options', JSON.stringify({ username: 'a'.repeat(BODY_LIMIT) }));
    expect([over.status, over.json?.error]).toEqual([413, 'request_too_large']);
    tally.badInput(over.status, over.ms);
    // Chunked, no length announced: cut once the limit is passed.
    const chunked = await RawConnection.open(server.port);
    const chunk = 'x'.repeat(4096);
    chunked.write('POST /api/v1/passkeys/authentication/options HTTP/1.1\r\nHost: localhost\r\nContent-Type: application/json\r\nTransfer-Encoding: chunked\r\n\r\n');
    for (let i = 0; i < 4; i++) chunked.write(`${chunk.length.toString(16)}\r\n${chunk}\r\n`);
    expect(await chunked.until(() => chunked.status !== 0, 5_000)).toBe(true);
    expect([chunked.status, chunked.json?.error]).toEqual([413, 'request_too_large']);
    chunked.destroy();
    // A length far past the limit is refused before a byte of the body is read.
    const declared = await RawConnection.open(server.port);
    declared.write('POST /api/v1/passkeys/authentication/options HTTP/1.1\r\nHost: localhost\r\nContent-Type: application/json\r\nContent-Length: 1000000000\r\n\r\n{');
    expect(await declared.until(() => declared.status !== 0, 5_000)).toBe(true);
    expect([declared.status, declared.json?.error]).toEqual([413, 'request_too_large']);
    declared.destroy();
    tally.requests += 2;
    record(task, tally.figures());
  });

  it('refuses headers over 16 KiB with 431', async ({ task }) => {
    const tally = new Tally();
    const connection = await RawConnection.open(server.port);
    connection.write(`GET /healthz HTTP/1.1\r\nHost: localhost\r\nX-Padding: ${'a'.repeat(20_000)}\r\n\r\n`);
    expect(await connection.until(() => connection.status !== 0, 5_000)).toBe(true);
    expect(connection.status).toBe(431);
    expect(connection.json?.error).toBe('request_headers_too_large');
    expect(await connection.untilClosed(2_000)).toBe(true);
    tally.requests++;
    tally.badInput(connection.status, 0);
    record(task, tally.figures());
  });

  it('a body that breaks the parser after the request was answered ends the connection, with that one answer only', async () => {
    // Answered from the headers alone (no such route), then a chunk size that is not hexadecimal.
    const connection = await RawConnection.open(server.port);
    connection.write('POST /api/v1/session HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\nzz\r\n');
    expect(await connection.untilClosed(5_000)).toBe(true);
    expect(connection.responses).toBe(1);
    expect(connection.status).toBe(404);
    expect(connection.json?.error).toBe('not_found');
  });

  it('cuts off slow clients after KEYBOUND_REQUEST_TIMEOUT while serving the others', async ({ task }) => {
    const tally = new Tally();
    const SLOW = 30;
    // Half trickle their headers, half send headers then trickle the body, a byte every 250 ms.
    const slow = await Promise.all(Array.from({ length: SLOW }, () => RawConnection.open(server.port)));
    const opened = performance.now();
    const head = 'POST /api/v1/passkeys/authentication/options HTTP/1.1\r\nHost: localhost\r\nContent-Type: application/json\r\nContent-Length: 500\r\n';
    slow.forEach((c, i) => c.write(i % 2 === 0 ? 'P' : `${head}\r\n{`));
    let position = 1;
    const trickle = setInterval(() => {
      for (const [i, c] of slow.entries()) c.write(i % 2 === 0 ? head[position % head.length]! : ' ');
      position++;
    }, 250);
    tally.faults += SLOW;
    try {
      // Meanwhile, ordinary clients get quick answers.
      const client = new Client(server.baseUrl, { tally, origin: ORIGIN });
      const served: number[] = [];
      const answeredAt: number[] = [];
      while (performance.now() - opened < (REQUEST_TIMEOUT_S * 1000) / 2) {
        const answer = await client.post('/api/v1/passkeys/authentication/options', {});
        expect(answer.status).toBe(200);
        served.push(answer.ms);
        answeredAt.push(performance.now());
      }
      // Every slow client is cut off, with a 408 where the server could still write one.
      const bound = REQUEST_TIMEOUT_S * 1000 + MARGIN_MS;
      await Promise.all(slow.map((c) => c.untilClosed(bound - (performance.now() - opened))));
      const open = slow.filter((c) => !c.closed).length;
      expect(open).toBe(0);
      // Not held up by them: every ordinary request was answered while all the slow clients were still
      // connected (an order of events, not a speed: a loaded machine answers later but still first).
      expect(Math.max(...answeredAt)).toBeLessThan(Math.min(...slow.map((c) => c.closedAt!)));
      const cutAfter = slow.map((c) => c.closedAt! - opened);
      for (const c of slow) if (c.status !== 0) expect([c.status, c.json?.error]).toEqual([408, 'request_timeout']);
      tally.requests += SLOW;
      tally.notes.push(`${SLOW} slow clients cut after ${Math.min(...cutAfter).toFixed(0)}-${Math.max(...cutAfter).toFixed(0)} ms (limit ${REQUEST_TIMEOUT_S} s); ${served.length} other requests served meanwhile, slowest ${Math.max(...served).toFixed(0)} ms`);
    } finally {
      clearInterval(trickle);
      slow.forEach((c) => c.destroy());
    }
    record(task, tally.figures());
  });

  it('closes a connection that sends nothing, and an idle kept-alive one, after their timeouts', async ({ task }) => {
    const tally = new Tally();
    const silent = await RawConnection.open(server.port);
    const kept = await RawConnection.open(server.port);
    kept.write(request('GET /healthz HTTP/1.1'));
    expect(await kept.until(() => kept.responses === 1, 2_000)).toBe(true);
    // The connection is kept alive: a second request on it is answered.
    kept.write(request('GET /readyz HTTP/1.1'));
    expect(await kept.until(() => kept.responses === 2, 2_000)).toBe(true);
    const idleFrom = performance.now();
    expect(await kept.untilClosed(KEEP_ALIVE_S * 1000 + MARGIN_MS)).toBe(true);
    expect(await silent.untilClosed(REQUEST_TIMEOUT_S * 1000 + MARGIN_MS)).toBe(true);
    tally.faults += 2;
    tally.requests += 2;
    tally.notes.push(`kept-alive connection closed ${(kept.closedAt! - idleFrom).toFixed(0)} ms after its last answer (limit ${KEEP_ALIVE_S} s); silent connection closed after ${(silent.closedAt! - silent.openedAt).toFixed(0)} ms (limit ${REQUEST_TIMEOUT_S} s)`);
    record(task, tally.figures());
  });

  it('stays up through hostile requests and raw garbage, answering each with a registered 4xx, never a 5xx or a hang', async ({ task }) => {
    const tally = new Tally();
    const paths = [
      '/api/v1/passkeys/registration/options',
      '/api/v1/passkeys/registration/verify',
      '/api/v1/passkeys/authentication/options',
      '/api/v1/passkeys/authentication/verify',
      '/api/v1/passkeys/x',
      '/api/v1/session',
      '/api/v1/codes/sign-in/start',
      '/api/v1/codes/sign-in/verify',
      '/api/v1/totp/confirm',
      '/oidc/token',
      '/oidc/token/introspection',
      '/oidc/me',
      '/interaction/x/options',
    ];
    const problems: string[] = [];
    await fc.assert(
      fc.asyncProperty(fc.constantFrom(...paths), fc.constantFrom('POST', 'PATCH', 'DELETE', 'PUT'), bodyRecipe, async (path, method, body) => {
        const built = bodyRequest(method as 'POST', path, body);
        const started = performance.now();
        const response = await fetch(`${server.baseUrl}${built.url}`, { method: built.method, headers: built.headers ?? {}, ...(built.payload !== undefined ? { body: typeof built.payload === 'string' ? built.payload : new Uint8Array(built.payload) } : {}), signal: AbortSignal.timeout(5_000) });
        const text = await response.text();
        const ms = performance.now() - started;
        tally.requests++;
        tally.badInput(response.status, ms);
        const problem = judge(built, { status: response.status, contentType: response.headers.get('content-type') ?? '', body: text }, ms);
        if (problem) problems.push(problem);
      }),
      { numRuns: 300 },
    );
    // Bytes that are not HTTP, or HTTP that lies: each gets a 400 (or a close), never a crash.
    const garbage = fc.oneof(
      fc.uint8Array({ minLength: 1, maxLength: 2000 }).map((b) => Buffer.from(b)),
      fc.constantFrom(
        'GET / HTTP/9.9\r\n\r\n',
        'GET\r\n\r\n',
        'G\x00T / HTTP/1.1\r\nHost: x\r\n\r\n',
        'GET / HTTP/1.1\r\nHost: x\r\nContent-Length: -1\r\n\r\n',
        'POST /api/v1/session HTTP/1.1\r\nHost: x\r\nContent-Length: 5\r\nContent-Length: 6\r\n\r\nhello',
        'POST /api/v1/session HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\nContent-Length: 5\r\n\r\n0\r\n\r\n',
        'POST /api/v1/session HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\nzz\r\n',
        'GET / HTTP/1.1\r\nHost: x\r\nBad Header\r\n\r\n',
        'GET / HTTP/1.1\r\nHost: x\r\nX: \x01\r\n\r\n',
        `GET /${'a'.repeat(20_000)} HTTP/1.1\r\nHost: x\r\n\r\n`,
        'GET / HTTP/1.1\r\n Host: x\r\n\r\n',
        'PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n',
      ).map((s) => Buffer.from(s, 'latin1')),
    );
    await fc.assert(
      fc.asyncProperty(garbage, async (bytes) => {
        const connection = await RawConnection.open(server.port);
        connection.write(bytes);
        const started = performance.now();
        await connection.until(() => connection.status !== 0, 1_000);
        const ms = performance.now() - started;
        tally.requests++;
        if (connection.status !== 0) {
          tally.badInput(connection.status, ms);
          if (connection.status >= 500) problems.push(`garbage ${JSON.stringify(bytes.toString('latin1').slice(0, 60))} -> ${connection.status}`);
          if (connection.status >= 400 && !(isErrorCode(connection.json?.error ?? '') && errorStatus(connection.json.error) === connection.status)) {
            problems.push(`garbage ${JSON.stringify(bytes.toString('latin1').slice(0, 60))} -> ${connection.status} ${connection.received.slice(0, 200)}`);
          }
        }
        connection.destroy();
      }),
      { numRuns: 150 },
    );
    expect(problems).toEqual([]);
    // Still up, still serving.
    expect(server.child.exitCode).toBeNull();
    expect((await fetch(`${server.baseUrl}/healthz`)).status).toBe(200);
    record(task, tally.figures());
  });
});
