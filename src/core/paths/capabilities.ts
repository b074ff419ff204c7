/**
 * The attacker capabilities takeover-path analysis speaks of (docs/paths.md): a closed list with
 * stable names, in the order reports list them. Each is one thing an attacker can do; a path opens
 * to a set of them together. Sources per capability are in docs/paths.md.
 */
export const CAPABILITIES = [
  'phishing_relay',
  'sim_swap',
  'mailbox_takeover',
  'sync_account_takeover',
  'device_theft_unlocked',
  'device_malware',
  'stolen_recovery_codes',
  'totp_seed_theft',
  'link_interception',
  'help_desk_social_engineering',
  'notice_suppression',
  'rogue_admin',
  'two_admin_collusion',
  'database_read',
] as const;

export type Capability = (typeof CAPABILITIES)[number];

/** One sentence per capability, for reports, the account page and docs/paths.md. */
export const CAPABILITY_SENTENCE: Readonly<Record<Capability, string>> = {
  phishing_relay: 'Relay a look-alike sign-in page in real time, so that whatever the holder types (a code from an app, a text or an email) is used at once by the attacker.',
  sim_swap: "Take over the holder's phone number (a SIM swap or number port) and receive the text messages sent to it.",
  mailbox_takeover: "Read the holder's mailbox, and with it every code and link sent there.",
  sync_account_takeover: 'Take over the cloud account that syncs a passkey (the platform account of a passkey manager), and with it the passkey on a device of the attacker.',
  device_theft_unlocked: "Hold one of the holder's devices unlocked, or know its unlock (PIN, pattern), so that its authenticator answers.",
  device_malware: "Run code on one of the holder's devices while the holder uses it, and drive its authenticator or read what it shows.",
  stolen_recovery_codes: "Read the holder's saved recovery codes (a printout, a file, a password manager).",
  totp_seed_theft: 'Copy the shared secret of an authenticator app (from a backup of the app, a screenshot of the set-up QR code, or an unlocked export).',
  link_interception: 'Read an enrolment or device link on its way to the holder (the mail, chat or screen it was sent through) and use it first.',
  help_desk_social_engineering: 'Deceive one administrator into starting a recovery for the attacker, posing as the holder.',
  notice_suppression: "Keep the holder from seeing or acting on a security notice during a waiting period (holder away, or the mailbox or phone that gets notices taken over).",
  rogue_admin: 'One administrator acting against the holder on their own.',
  two_admin_collusion: 'Two administrators acting together against the holder.',
  database_read: "Read Keybound's database. Keybound keeps only hashes and sealed seeds there, so no path opens to this alone.",
};

const ORDER: Readonly<Record<Capability, number>> = Object.fromEntries(CAPABILITIES.map((c, i) => [c, i])) as Record<Capability, number>;

/** Catalogue order, for stable output. */
export function compareCapabilities(a: Capability, b: Capability): number {
  return ORDER[a] - ORDER[b];
}

/** A capability as a noun phrase, for advice ("a SIM swap is then no longer enough"). */
export const CAPABILITY_NOUN: Readonly<Record<Capability, string>> = {
  phishing_relay: 'a phishing relay',
  sim_swap: 'a SIM swap',
  mailbox_takeover: 'a mailbox takeover',
  sync_account_takeover: 'a sync-account takeover',
  device_theft_unlocked: 'a stolen unlocked device',
  device_malware: 'malware on a device',
  stolen_recovery_codes: 'stolen recovery codes',
  totp_seed_theft: 'a copied authenticator-app secret',
  link_interception: 'an intercepted link',
  help_desk_social_engineering: 'deceiving the help desk',
  notice_suppression: 'keeping the holder from a notice',
  rogue_admin: 'one rogue administrator',
  two_admin_collusion: 'two colluding administrators',
  database_read: 'a copy of the database',
};
