/**
 * What the hosted pages say when something fails (bundled into the pages' one script by client.ts):
 * the server's own sentence, with how long to wait when a limit applies, or a browser ceremony's
 * error in words. No DOM here, so it is unit-tested in Node (messages.test.ts).
 */

export class ApiError extends Error {
  constructor(
    readonly code: string,
    message: string,
    /** Seconds until a limit lets the request through again (`retry_after`), when one applies. */
    readonly retryAfter: number | null = null,
  ) {
    super(message);
  }
}

/** "2 minutes", "45 seconds", "1 second": how long a limit still holds, rounded up. */
export function waitInWords(seconds: number): string {
  if (seconds >= 90) return `${Math.ceil(seconds / 60)} minutes`;
  const whole = Math.max(1, Math.ceil(seconds));
  return `${whole} ${whole === 1 ? 'second' : 'seconds'}`;
}

/** A sentence for whatever went wrong: the server's own, or the browser's ceremony error in words. */
export function explain(error: unknown): string {
  if (error instanceof ApiError) return error.retryAfter !== null && error.retryAfter > 0 ? `${error.message} Try again in ${waitInWords(error.retryAfter)}.` : error.message;
  const name = (error as { name?: string }).name;
  const code = (error as { code?: string }).code;
  if (code === 'ERROR_AUTHENTICATOR_PREVIOUSLY_REGISTERED') return 'This authenticator is already registered to your account.';
  if (name === 'NotAllowedError') {
    return 'The passkey prompt was closed, timed out, or your authenticator could not verify you (this server requires a PIN, fingerprint or face check). Try again, or use another authenticator.';
  }
  if (name === 'InvalidStateError') return 'This authenticator is already registered to your account.';
  if (name === 'NotSupportedError' || name === 'ConstraintError') {
    return 'Your authenticator cannot do what this server requires (a discoverable passkey with user verification). Use another authenticator.';
  }
  return (error as Error).message || 'Something went wrong.';
}
