import type { Config } from '../config/load.ts';
import type { DataKeyring } from '../crypto/dataKeys.ts';
import type { Mailer } from '../delivery/mail.ts';
import type { SmsProvider } from '../delivery/sms.ts';
import type { RolePolicies } from '../core/policy.ts';
import type { Clock, Random } from '../core/tokens.ts';
import type { Metrics } from '../observability/metrics.ts';
import type { Store } from '../store/index.ts';
import type { RiskSetup } from './risk/setup.ts';
import type { PublicKeyCache } from '../webauthn/cose.ts';

/** Everything a service needs, passed in: no service reads the clock, randomness or config itself. */
export interface Deps {
  readonly store: Store;
  readonly config: Config;
  readonly policies: RolePolicies;
  /** The risk rules and the city database, read once at start (services/risk). */
  readonly risk: RiskSetup;
  readonly clock: Clock;
  readonly random: Random;
  readonly keys: PublicKeyCache;
  readonly metrics: Metrics;
  /** Installation secret (settings table) that derives stand-in credential ids for unknown usernames. */
  readonly installSecret: Uint8Array;
  /** Encrypts secrets that must be read back (TOTP seeds, signing keys); see crypto/dataKeys.ts. */
  readonly dataKeys: DataKeyring;
  /** Email (codes and security notices); `null` when no SMTP server is configured. */
  readonly mailer: Mailer | null;
  /** Text messages; `null` when SMS is off. */
  readonly sms: SmsProvider | null;
  /** Where services report security events (passkey flagged, factor disabled, role changed, recovery) at warn level. */
  readonly log: ServiceLog;
}

/** The slice of a pino logger services use; the server passes Fastify's, the CLI writes to stderr. */
export interface ServiceLog {
  warn(fields: Record<string, unknown>, message: string): void;
}
