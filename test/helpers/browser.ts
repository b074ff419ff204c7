/**
 * Headless Chromium for browser tests, driven by playwright-core (no
 * browser download), and CDP virtual authenticators (WebAuthn domain) standing in for a passkey.
 */
import { chromium, type Browser, type BrowserContext, type CDPSession, type Page } from 'playwright-core';
import type { ServerProcess } from './server.ts';

/**
 * The browser the run's global setup chose (test/setup/chromium.ts: KEYBOUND_TEST_CHROMIUM, an
 * installed Chromium or Chrome, else the one a dev dependency ships).
 */
export const CHROMIUM_PATH = process.env.KEYBOUND_TEST_CHROMIUM_FOUND ?? process.env.KEYBOUND_TEST_CHROMIUM ?? '/usr/bin/chromium';

const CHROMIUM_ARGS = [
  '--headless',
  '--no-sandbox',
  '--disable-gpu',
  '--disable-quic',
  '--no-first-run',
  '--disable-background-networking',
  '--disable-component-update',
  '--disable-sync',
];

/** Launches headless Chromium; close it with `browser.close()`. */
export function launchChromium(options: { args?: readonly string[]; timeoutMs?: number } = {}): Promise<Browser> {
  return chromium.launch({ executablePath: CHROMIUM_PATH, args: [...CHROMIUM_ARGS, ...(options.args ?? [])], timeout: options.timeoutMs ?? 30_000 });
}

/** The subset of CDP `WebAuthn.VirtualAuthenticatorOptions` the tests set. */
export interface AuthenticatorOptions {
  readonly protocol: 'ctap2' | 'u2f';
  readonly ctap2Version?: 'ctap2_0' | 'ctap2_1' | 'ctap2_2';
  readonly transport: 'usb' | 'nfc' | 'ble' | 'cable' | 'hybrid' | 'internal';
  readonly hasResidentKey: boolean;
  readonly hasUserVerification: boolean;
  readonly isUserVerified: boolean;
  readonly automaticPresenceSimulation: boolean;
  /** BE flag of credentials it creates: `true` makes a syncable passkey. */
  readonly defaultBackupEligibility?: boolean;
  readonly defaultBackupState?: boolean;
}

/** A platform authenticator with resident keys and successful user verification: a device-bound passkey. */
export const PLATFORM_AUTHENTICATOR: AuthenticatorOptions = {
  protocol: 'ctap2',
  transport: 'internal',
  hasResidentKey: true,
  hasUserVerification: true,
  isUserVerified: true,
  automaticPresenceSimulation: true,
};

/** A credential as the virtual authenticator holds it (CDP `WebAuthn.Credential`, base64 fields). */
export interface VirtualCredential {
  readonly credentialId: string;
  readonly isResidentCredential: boolean;
  readonly rpId?: string;
  readonly userHandle?: string;
  readonly signCount: number;
  readonly backupEligibility?: boolean;
  readonly backupState?: boolean;
  readonly userName?: string;
}

export interface VirtualAuthenticator {
  readonly id: string;
  readonly cdp: CDPSession;
  /** The credentials it stores. */
  credentials(): Promise<VirtualCredential[]>;
  /** Makes later user-verification checks succeed or fail. */
  setUserVerified(verified: boolean): Promise<void>;
  remove(): Promise<void>;
}

/** CDP encodes credential ids as standard base64; WebAuthn JSON and the API use base64url without padding. */
export function base64ToBase64url(value: string): string {
  return value.replace(/\+/g, '-').replace(/\//g, '_').replace(/=+$/, '');
}

/**
 * Attaches a virtual authenticator to `page` (it applies to that page's target and survives same-tab
 * navigation). Options override {@link PLATFORM_AUTHENTICATOR}.
 */
export async function addVirtualAuthenticator(page: Page, options: Partial<AuthenticatorOptions> = {}): Promise<VirtualAuthenticator> {
  const cdp = await page.context().newCDPSession(page);
  await cdp.send('WebAuthn.enable', { enableUI: false });
  const { authenticatorId } = await cdp.send('WebAuthn.addVirtualAuthenticator', { options: { ...PLATFORM_AUTHENTICATOR, ...options } });
  return {
    id: authenticatorId,
    cdp,
    credentials: async () => (await cdp.send('WebAuthn.getCredentials', { authenticatorId })).credentials as VirtualCredential[],
    setUserVerified: async (isUserVerified) => {
      await cdp.send('WebAuthn.setUserVerified', { authenticatorId, isUserVerified });
    },
    remove: async () => {
      await cdp.send('WebAuthn.removeVirtualAuthenticator', { authenticatorId });
    },
  };
}

/** How long a browser test waits for one step (a navigation, an element, a ceremony). */
export const STEP_TIMEOUT_MS = 15_000;

/** A page in `context` with a virtual authenticator, recording the page's uncaught errors. */
export async function openBrowserPage(
  context: BrowserContext,
  authenticator: Partial<AuthenticatorOptions> = {},
  timeoutMs = STEP_TIMEOUT_MS,
): Promise<{ page: Page; virtual: VirtualAuthenticator; errors: string[] }> {
  context.setDefaultTimeout(timeoutMs);
  const page = await context.newPage();
  const errors: string[] = [];
  page.on('pageerror', (error) => errors.push(error.message));
  const virtual = await addVirtualAuthenticator(page, authenticator);
  return { page, virtual, errors };
}

/** Invites `username` and enrols a passkey on the invitation page with the page's virtual authenticator. */
export async function enrolInBrowser(server: ServerProcess, page: Page, username: string, nickname = 'Test passkey'): Promise<void> {
  const invited = await server.cliJson<{ url: string }>(['invite', username, '--json']);
  await page.goto(invited.url);
  await page.getByLabel('Name this passkey').fill(nickname);
  await page.getByRole('button', { name: 'Create passkey' }).click();
  await page.waitForURL(`${server.baseUrl}/account`);
}
