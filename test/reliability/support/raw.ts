/**
 * Raw TCP connections to a server, for what a fetch client cannot do: send half a request, trickle
 * headers, hold a connection idle, write bytes that are not HTTP.
 */
import { connect, type Socket } from 'node:net';

export class RawConnection {
  /** Everything received so far. */
  received = '';
  /** When the server closed (or reset) the connection, in `performance.now()` time; `null` while open. */
  closedAt: number | null = null;
  readonly openedAt = performance.now();
  private readonly waiters = new Set<() => void>();

  private constructor(readonly socket: Socket) {
    socket.setNoDelay(true);
    socket.on('data', (chunk) => {
      this.received += chunk.toString('latin1');
      this.notify();
    });
    socket.on('error', () => undefined);
    socket.on('close', () => {
      this.closedAt = performance.now();
      this.notify();
    });
  }

  /** Connects to `port` on loopback; rejects with the socket error (ECONNREFUSED when nothing listens). */
  static open(port: number, host = '127.0.0.1'): Promise<RawConnection> {
    return new Promise((resolve, reject) => {
      const socket = connect({ port, host });
      socket.once('connect', () => resolve(new RawConnection(socket)));
      socket.once('error', reject);
    });
  }

  write(data: string | Uint8Array): void {
    if (!this.socket.destroyed) this.socket.write(data);
  }

  get closed(): boolean {
    return this.closedAt !== null;
  }

  /** Waits until `check(received)` holds or the connection closes, for at most `timeoutMs`; says whether it held. */
  async until(check: (received: string) => boolean, timeoutMs: number): Promise<boolean> {
    const deadline = performance.now() + timeoutMs;
    while (!check(this.received)) {
      if (this.closed || performance.now() >= deadline) return check(this.received);
      await new Promise<void>((resolve) => {
        const timer = setTimeout(resolve, Math.max(0, deadline - performance.now()));
        this.waiters.add(() => {
          clearTimeout(timer);
          resolve();
        });
      });
    }
    return true;
  }

  /** Waits for the server to close the connection, for at most `timeoutMs`; says whether it did. */
  async untilClosed(timeoutMs: number): Promise<boolean> {
    await this.until(() => this.closed, timeoutMs);
    return this.closed;
  }

  /** The status code of the first response received, or 0. */
  get status(): number {
    const match = /^HTTP\/1\.[01] (\d{3})/.exec(this.received);
    return match ? Number(match[1]) : 0;
  }

  /** Number of complete status lines received (pipelined or kept-alive answers). */
  get responses(): number {
    return (this.received.match(/HTTP\/1\.[01] \d{3}/g) ?? []).length;
  }

  /** The JSON body of the first response, if it has one. */
  get json(): any {
    const body = this.received.split('\r\n\r\n')[1];
    try {
      return body ? JSON.parse(body) : undefined;
    } catch {
      return undefined;
    }
  }

  destroy(): void {
    this.socket.destroy();
  }

  private notify(): void {
    for (const waiter of this.waiters) waiter();
    this.waiters.clear();
  }
}

/** Whether a new TCP connection to `port` is refused right now. */
export async function refused(port: number): Promise<boolean> {
  try {
    const connection = await RawConnection.open(port);
    connection.destroy();
    return false;
  } catch (error) {
    return (error as NodeJS.ErrnoException).code === 'ECONNREFUSED';
  }
}
