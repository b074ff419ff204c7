/**
 * A minimal keep-alive HTTP/1.1 client for the load generator: node:http, one agent, no retries.
 * With `timeoutMs`, a request with no answer by then fails (the offboard scenario's polls are bounded).
 */
import { Agent, request } from 'node:http';

export interface HttpResponse {
  readonly status: number;
  readonly headers: Record<string, string | string[] | undefined>;
  readonly body: string;
}

export class HttpClient {
  private readonly agent: Agent;
  private readonly host: string;
  private readonly port: number;

  constructor(
    baseUrl: string,
    maxSockets: number,
    private readonly options: { timeoutMs?: number } = {},
  ) {
    const url = new URL(baseUrl);
    this.host = url.hostname;
    this.port = Number(url.port);
    this.agent = new Agent({ keepAlive: true, maxSockets, maxFreeSockets: maxSockets, scheduling: 'lifo' });
  }

  send(method: string, path: string, headers: Record<string, string>, body?: string, contentType = 'application/json'): Promise<HttpResponse> {
    return new Promise((resolve, reject) => {
      const req = request(
        {
          host: this.host,
          port: this.port,
          method,
          path,
          agent: this.agent,
          headers: body === undefined ? headers : { 'content-type': contentType, ...headers, 'content-length': String(Buffer.byteLength(body)) },
        },
        (res) => {
          const chunks: Buffer[] = [];
          res.on('data', (chunk: Buffer) => chunks.push(chunk));
          res.on('end', () => resolve({ status: res.statusCode ?? 0, headers: res.headers, body: Buffer.concat(chunks).toString('utf8') }));
          res.on('error', reject);
        },
      );
      req.on('error', reject);
      if (this.options.timeoutMs !== undefined) {
        const timeoutMs = this.options.timeoutMs;
        req.setTimeout(timeoutMs, () => req.destroy(new Error(`no answer within ${timeoutMs} ms`)));
      }
      req.end(body);
    });
  }

  close(): void {
    this.agent.destroy();
  }
}

/** The `name=value` of the cookie `name` among a response's Set-Cookie headers. */
export function cookieFrom(response: HttpResponse, name: string): string | null {
  const header = response.headers['set-cookie'];
  for (const line of Array.isArray(header) ? header : header ? [header] : []) {
    const pair = line.split(';', 1)[0]!;
    if (pair.startsWith(`${name}=`)) return pair;
  }
  return null;
}
