import { calculateJwkThumbprint, exportJWK, generateKeyPair, type JWK } from 'jose';
import type { OidcConfig } from '../config/load.ts';
import type { Deps } from '../services/deps.ts';
import type { SigningKeyRow } from '../store/ports.ts';

/**
 * Token-signing keys: made on first start, kept in the database with the private half sealed by the
 * data keys, rotated by `keybound keys rotate-signing`. After a rotation the old key stays in the
 * JWKS (verification only) for `KEYBOUND_OIDC_KEY_OVERLAP`, so tokens it signed keep verifying.
 */
type Alg = OidcConfig['signingAlg'];

const sealContext = (kid: string) => `oidc-signing-key:${kid}`;

export async function generateSigningKey(deps: Deps, alg: Alg): Promise<SigningKeyRow> {
  const { privateKey, publicKey } = await generateKeyPair(alg === 'EdDSA' ? 'Ed25519' : alg, { extractable: true });
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
  };
}

/** Makes the first signing key unless there is a current one (instances starting together make one between them). */
export async function ensureSigningKey(deps: Deps): Promise<void> {
  const live = await deps.store.oidcKeys.listLive(deps.clock());
  if (live.some((k) => k.status === 'current')) return;
  await deps.store.oidcKeys.insertCurrent(await generateSigningKey(deps, deps.config.oidc.signingAlg));
}

export interface Rotation {
  readonly kid: string;
  readonly alg: string;
  /** The key that now only verifies, and until when. */
  readonly retired: { readonly kid: string; readonly until: number } | null;
}

/** Makes a new current key; the old one verifies until now + overlap. One transaction, audited. */
export async function rotateSigningKey(deps: Deps, options: { alg?: Alg; overlapMs?: number } = {}): Promise<Rotation> {
  const now = deps.clock();
  const next = await generateSigningKey(deps, options.alg ?? deps.config.oidc.signingAlg);
  const until = now + (options.overlapMs ?? deps.config.oidc.keyOverlapMs);
  return deps.store.transaction(async (tx) => {
    const previous = (await tx.oidcKeys.listLive(now)).find((k) => k.status === 'current') ?? null;
    await tx.oidcKeys.retireCurrent(until);
    if (!(await tx.oidcKeys.insertCurrent(next))) throw new Error('another rotation made a current key at the same time; run it again');
    await tx.audit.append({
      type: 'oidc.signing_key.rotated',
      outcome: 'success',
      at: now,
      details: { kid: next.kid, alg: next.alg, retired: previous?.kid ?? null, retiredUntil: previous ? until : null },
    });
    return { kid: next.kid, alg: next.alg, retired: previous ? { kid: previous.kid, until } : null };
  });
}

export interface LoadedKeys {
  /** Private JWKs for oidc-provider, the current key first (it signs; the others only verify). */
  readonly jwks: { keys: JWK[] };
  /** Changes whenever the set of keys does, so instances know to rebuild the provider. */
  readonly fingerprint: string;
}

export async function loadSigningKeys(deps: Deps): Promise<LoadedKeys> {
  const live = await deps.store.oidcKeys.listLive(deps.clock());
  const keys = live.map((k) => JSON.parse(new TextDecoder().decode(deps.dataKeys.open(k.privateJwk, sealContext(k.kid)))) as JWK);
  return { jwks: { keys }, fingerprint: live.map((k) => `${k.kid}:${k.status}`).join(',') };
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

/** The current key set's identity, without opening any key (cheap enough to poll). */
export async function signingKeyFingerprint(deps: Deps): Promise<string> {
  const live = await deps.store.oidcKeys.listLive(deps.clock());
  return live.map((k) => `${k.kid}:${k.status}`).join(',');
}
