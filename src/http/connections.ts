import { STATUS_CODES, type ServerOptions } from 'node:http';
import type { Socket } from 'node:net';
import type { Config } from '../config/load.ts';
import { errorStatus, type ErrorCode } from '../core/errors.ts';
import { errorBody } from './reply.ts';

/** Largest request head (request line and headers) accepted; more gets 431. */
export const MAX_HEADER_BYTES = 16 * 1024;

/**
 * Longest request target (path and query) accepted; more gets 414. Node's parser already caps the
 * whole head at MAX_HEADER_BYTES, but every parameter of an authorization request is stored with
 * its interaction, so the bound on what is stored is set here, where it holds for every way a
 * request arrives (`app.inject` skips Node's parser).
 */
export const MAX_URL_BYTES = 8 * 1024;

/**
 * Options for Node's HTTP server. Node enforces `requestTimeout` only when it sweeps its connections,
 * every `connectionsCheckingInterval` (30 s by default): a client trickling its headers or body a
 * byte at a time held a connection for up to 30 s past KEYBOUND_REQUEST_TIMEOUT. Sweep every second
 * (or sooner for shorter timeouts) so the limit is the limit.
 */
export function httpServerOptions(config: Config): ServerOptions {
  return {
    maxHeaderSize: MAX_HEADER_BYTES,
    requestTimeout: config.requestTimeoutMs,
    headersTimeout: config.requestTimeoutMs,
    connectionsCheckingInterval: Math.min(1_000, Math.max(100, Math.floor(config.requestTimeoutMs / 2))),
  };
}

/**
 * Answers what Node's HTTP parser refuses before Fastify sees a request (bytes that are not HTTP,
 * headers over the limit, a request that took too long to arrive) in the same `{error, message}`
 * form as every other failure, then closes the connection. Fastify's default answers with a body
 * of its own whose `error` is not a registered code.
 */
export function clientErrorHandler(error: Error & { code?: string }, socket: Socket): void {
  if (error.code === 'ECONNRESET' || socket.destroyed) return;
  const code: ErrorCode = error.code === 'ERR_HTTP_REQUEST_TIMEOUT' ? 'request_timeout' : error.code === 'HPE_HEADER_OVERFLOW' ? 'request_headers_too_large' : 'invalid_request';
  const status = errorStatus(code);
  const body = JSON.stringify(errorBody(code));
  // As Node.js's own handler does: no second answer on a connection whose request already has one
  // under way. A route may answer before its body has arrived (an unknown path, a refused origin);
  // a body that then breaks the parser only closes the connection after that answer.
  const inFlight = (socket as Socket & { _httpMessage?: { headersSent?: boolean } })._httpMessage;
  if (socket.writable && !inFlight?.headersSent) {
    socket.write(
      `HTTP/1.1 ${status} ${STATUS_CODES[status]}\r\n` +
        'Content-Type: application/json; charset=utf-8\r\n' +
        `Content-Length: ${Buffer.byteLength(body)}\r\n` +
        'Cache-Control: no-store\r\nX-Content-Type-Options: nosniff\r\nConnection: close\r\n\r\n' +
        body,
    );
  }
  socket.destroy(error);
}
