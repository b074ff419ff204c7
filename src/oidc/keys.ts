import { calculateJwkThumbprint, exportJWK, generateKeyPair, type JWK } from 'jose';
import type { OidcConfig } from '../config/load.ts';
import type { Deps } from '../services/deps.ts';
import type { SigningKeyRow } from '../store/ports.ts';

/**
 * Token-signing keys: made on first start, kept in the database with the private half sealed by the
 * data keys, rotated by `keybound keys rotate-signing`. A rotation publishes the next key in the
 * JWKS at once and lets it sign only `KEYBOUND_OIDC_KEY_LEAD` later, so a verifier that cached the
 * JWKS meanwhile already holds it; the old key signs until then and stays in the JWKS (verification
 * only) for `KEYBOUND_OIDC_KEY_OVERLAP` after it. Each algorithm has its own current key: the
 * configured one (ES256 by default) and RS256, which OpenID Connect Discovery 1.0 §3 requires among
 * `id_token_signing_alg_values_supported` (used only by clients that ask for it).
 */
type Alg = OidcConfig['signingAlg'] | 'RS256';

const sealContext = (kid: string) => `oidc-signing-key:${kid}`;

/** The algorithms a current key is kept for: the configured one first. */
export function signingAlgs(deps: Deps): Alg[] {
  return [...new Set<Alg>([deps.config.oidc.signingAlg, 'RS256'])];
}

/**
 * Size of new RSA keys (PS256, RS256). OWASP ASVS 5.0 11.2.3 asks for at least 128 bits of
 * security; RSA reaches it at 3072 bits (NIST SP 800-57 Part 1 Rev. 5, Table 2), 2048 gives 112.
 */
export const RSA_MODULUS_BITS = 3072;

const isRsa = (alg: string) => alg === 'RS256' || alg === 'PS256';

/** Bits of an RSA public JWK's modulus (`n`, RFC 7518 §6.3.1.1: unsigned big-endian, no leading zero). */
export function rsaModulusBits(jwk: { n?: unknown }): number {
  if (typeof jwk.n !== 'string') return 0;
  const n = Buffer.from(jwk.n, 'base64url');
  const lead = n.findIndex((b) => b !== 0);
  return lead < 0 ? 0 : (n.length - lead) * 8 - Math.clz32(n[lead]!) + 24;
}

export async function generateSigningKey(deps: Deps, alg: Alg, activateAt: number | null = null): Promise<SigningKeyRow> {
  const { privateKey, publicKey } = await generateKeyPair(alg === 'EdDSA' ? 'Ed25519' : alg, { extractable: true, ...(isRsa(alg) ? { modulusLength: RSA_MODULUS_BITS } : {}) });
  const publicJwk = await exportJWK(publicKey);
  // RFC 7638 thumbprint as kid: stable, unique per key, and says nothing about when it was made.
  const kid = await calculateJwkThumbprint(publicJwk);
  const fields = { kid, alg, use: 'sig' };
  const privateJwk = { ...(await exportJWK(privateKey)), ...fields };
  return {
    kid,
    alg,
    status: 'current',
    privateJwk: deps.dataKeys.seal(new TextEncoder().encode(JSON.stringify(privateJwk)), sealContext(kid)),
    publicJwk: { ...publicJwk, ...fields },
    createdAt: deps.clock(),
    retireAt: null,
    activateAt,
  };
}

/** Makes the first key of each algorithm unless it has a current one (instances starting together make one between them). */
export async function ensureSigningKey(deps: Deps): Promise<void> {
  const live = await deps.store.oidcKeys.listLive(deps.clock());
  for (const alg of signingAlgs(deps)) {
    if (live.some((k) => k.status === 'current' && k.alg === alg)) continue;
    await deps.store.oidcKeys.insertCurrent(await generateSigningKey(deps, alg));
  }
}

/**
 * RSA keys made before keys were 3072 bits (RSA_MODULUS_BITS) are replaced at start, not left for
 * an administrator to notice: each current RS256 or PS256 key shorter than that is rotated the
 * ordinary way (`rotateSigningKey`: the new key is published now and signs after
 * KEYBOUND_OIDC_KEY_LEAD; the old one signs until then and verifies for KEYBOUND_OIDC_KEY_OVERLAP
 * after), so no token already issued stops verifying and no verifier meets an unknown key. The
 * newest current key is the one looked at, so once rotated (by any instance) nothing more happens.
 */
export async function replaceShortRsaKeys(deps: Deps): Promise<Rotation[]> {
  const live = await deps.store.oidcKeys.listLive(deps.clock());
  const rotations: Rotation[] = [];
  for (const alg of signingAlgs(deps).filter(isRsa)) {
    const current = live.find((k) => k.status === 'current' && k.alg === alg);
    if (!current || rsaModulusBits(current.publicJwk) >= RSA_MODULUS_BITS) continue;
    try {
      rotations.push(await rotateSigningKey(deps, { alg, reason: 'rsa_key_too_short' }));
    } catch (error) {
      // Another instance starting at the same moment rotated it first: nothing left to do.
      const now = await deps.store.oidcKeys.listLive(deps.clock());
      const replaced = now.find((k) => k.status === 'current' && k.alg === alg);
      if (!replaced || rsaModulusBits(replaced.publicJwk) < RSA_MODULUS_BITS) throw error;
    }
  }
  return rotations;
}

export interface Rotation {
  readonly kid: string;
  readonly alg: string;
  /** When the new key starts signing (it is in the JWKS from now). */
  readonly activeFrom: number;
  /** The key that signs until then and verifies until `until`. */
  readonly retired: { readonly kid: string; readonly until: number } | null;
}

/**
 * Makes the next key of `alg`: published now, signing from now + lead; the old one signs until
 * then and verifies until activation + overlap. One transaction, audited.
 */
export async function rotateSigningKey(deps: Deps, options: { alg?: Alg; overlapMs?: number; leadMs?: number; reason?: string } = {}): Promise<Rotation> {
  const now = deps.clock();
  const alg = options.alg ?? deps.config.oidc.signingAlg;
  const activeFrom = now + (options.leadMs ?? deps.config.oidc.keyLeadMs);
  const next = await generateSigningKey(deps, alg, activeFrom);
  const until = activeFrom + (options.overlapMs ?? deps.config.oidc.keyOverlapMs);
  return deps.store.transaction(async (tx) => {
    const previous = (await tx.oidcKeys.listLive(now)).find((k) => k.status === 'current' && k.alg === alg) ?? null;
    await tx.oidcKeys.retireCurrent(until, alg);
    if (!(await tx.oidcKeys.insertCurrent(next))) throw new Error('another rotation made a current key at the same time; run it again');
    await tx.audit.append({
      type: 'oidc.signing_key.rotated',
      outcome: 'success',
      at: now,
      details: { kid: next.kid, alg: next.alg, activeFrom, retired: previous?.kid ?? null, retiredUntil: previous ? until : null, ...(options.reason ? { reason: options.reason } : {}) },
    });
    return { kid: next.kid, alg: next.alg, activeFrom, retired: previous ? { kid: previous.kid, until } : null };
  });
}

/**
 * The key of each algorithm that signs at `now`: of the live keys whose activation has come, the
 * one activated last (a key without an activation time signs from its creation).
 */
export function signersAt(live: readonly SigningKeyRow[], now: number): Set<string> {
  const best = new Map<string, SigningKeyRow>();
  for (const k of live) {
    const from = k.activateAt ?? k.createdAt;
    if (from > now) continue;
    const held = best.get(k.alg);
    if (!held || from > (held.activateAt ?? held.createdAt)) best.set(k.alg, k);
  }
  return new Set([...best.values()].map((k) => k.kid));
}

/** Orders keys for oidc-provider (it signs with the first key of an algorithm) and names the set. */
function arrange(live: readonly SigningKeyRow[], now: number): { keys: SigningKeyRow[]; fingerprint: string } {
  const signers = signersAt(live, now);
  const keys = [...live.filter((k) => signers.has(k.kid)), ...live.filter((k) => !signers.has(k.kid))];
  return { keys, fingerprint: keys.map((k) => `${k.kid}:${signers.has(k.kid) ? 'signs' : 'verifies'}`).join(',') };
}

export interface LoadedKeys {
  /** Private JWKs for oidc-provider, the signing key of each algorithm first (the others only verify). */
  readonly jwks: { keys: JWK[] };
  /** Changes whenever the set of keys does, so instances know to rebuild the provider. */
  readonly fingerprint: string;
}

export async function loadSigningKeys(deps: Deps): Promise<LoadedKeys> {
  const now = deps.clock();
  const { keys, fingerprint } = arrange(await deps.store.oidcKeys.listLive(now), now);
  return { jwks: { keys: keys.map((k) => JSON.parse(new TextDecoder().decode(deps.dataKeys.open(k.privateJwk, sealContext(k.kid)))) as JWK) }, fingerprint };
}

/**
 * Keys that sign the provider's cookies (interaction, resume, session): made once per installation,
 * sealed at rest, shared by every instance.
 */
export async function loadCookieKeys(deps: Deps): Promise<string[]> {
  const context = 'oidc-cookie-key';
  const fresh = deps.dataKeys.seal(deps.random(32), context);
  const sealed = await deps.store.settings.getOrCreate('oidc.cookie_key', fresh);
  return [Buffer.from(deps.dataKeys.open(sealed, context)).toString('base64url')];
}

/**
 * The key set's identity, without opening any key (cheap enough to poll). It changes when a key is
 * added or dropped and when a published key's activation time passes, so every instance switches
 * signing keys at its next refresh after activation.
 */
export async function signingKeyFingerprint(deps: Deps): Promise<string> {
  const now = deps.clock();
  return arrange(await deps.store.oidcKeys.listLive(now), now).fingerprint;
}
