/**
 * Which connections Keybound makes in clear. OWASP ASVS 5.0 12.3.1: "Verify that an encrypted
 * protocol such as TLS is used for all outbound connections to and from the application, including
 * monitoring systems, management tools, remote access and SSH, middleware, databases, mainframes,
 * partner systems, or external APIs." A connection that never leaves the machine (loopback, a Unix
 * socket) carries nothing an eavesdropper on the network could read.
 */

/** `localhost`, 127.0.0.0/8 or ::1, as `URL.hostname` spells them (IPv6 in brackets). */
export function isLoopbackHost(hostname: string): boolean {
  const host = hostname.toLowerCase().replace(/^\[|\]$/g, '');
  return host === 'localhost' || host.endsWith('.localhost') || host === '::1' || /^127\.\d{1,3}\.\d{1,3}\.\d{1,3}$/.test(host);
}

/** Why an SMS gateway URL would send the bearer token, phone numbers and codes in clear, or `null`. */
export function smsUrlProblem(url: string): string | null {
  const parsed = new URL(url);
  if (parsed.protocol === 'https:' || isLoopbackHost(parsed.hostname)) return null;
  return `KEYBOUND_SMS_URL=${parsed.origin}: plain http:// would send the gateway token, phone numbers and codes in clear; use https:// (http:// is allowed only to a loopback address)`;
}

export type DatabaseTls = 'local' | 'required' | 'disabled' | 'missing';

const TLS_MODES = ['require', 'verify-ca', 'verify-full'];

/**
 * How a PostgreSQL URL protects its connection: on the machine (loopback host or Unix socket),
 * TLS required by `sslmode`, TLS explicitly turned off (`sslmode=disable`), or not said (which libpq
 * and node-postgres take as "try without", so a network attacker could read or change every query).
 */
export function databaseTls(url: string): DatabaseTls {
  if (!URL.canParse(url)) return 'local'; // not a URL: opening it says why
  const parsed = new URL(url);
  const socketHost = parsed.searchParams.get('host');
  const local = socketHost !== null ? socketHost.startsWith('/') || isLoopbackHost(socketHost) : parsed.hostname === '' || isLoopbackHost(parsed.hostname);
  if (local) return 'local';
  const mode = parsed.searchParams.get('sslmode');
  if (mode !== null && TLS_MODES.includes(mode)) return 'required';
  return mode === 'disable' ? 'disabled' : 'missing';
}
