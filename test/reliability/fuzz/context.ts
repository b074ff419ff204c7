/**
 * The live state the fuzz recipes draw on, on an in-process app: an enrolment link, challenges
 * written straight to the store, an enrolled authenticator and its session (renewed whenever a case
 * used them up), and an OpenID client.
 */
import { randomBytes } from 'node:crypto';
import { base64url } from '../../../src/core/bytes.ts';
import { hashSecret } from '../../../src/core/tokens.ts';
import { invite } from '../../../src/services/invitations.ts';
import { enrol, type TestApp } from '../../helpers/app.ts';
import { createOidcState, type OidcFuzzState } from './oidc.ts';
import type { FuzzContext } from './types.ts';

/** Builds the live state the recipes need, on an in-process app. */
export async function createFuzzContext(t: TestApp): Promise<FuzzContext> {
  const invited = await invite(t.deps, { username: 'fuzz-enrolee', createdBy: 'fuzz' });
  if (!invited.ok) throw new Error(invited.code);
  let current = await enrol(t, 'fuzz-signer');
  let serial = 0;
  let needNewSigner = false;
  let needNewCookie = false;
  let oidc: Promise<OidcFuzzState> | undefined;
  const refresh = async () => {
    current = await enrol(t, `fuzz-signer-${++serial}`);
  };
  return {
    t,
    enrolmentToken: invited.value.token,
    async cookie() {
      if (needNewCookie) {
        needNewCookie = false;
        await refresh();
      }
      return current.cookie;
    },
    async registrationChallenge() {
      const challenge = base64url.encode(new Uint8Array(randomBytes(32)));
      const now = t.clock.now;
      await t.store.ceremonies.create({ challengeHash: hashSecret(challenge), kind: 'registration', accountId: invited.value.account.id, invitationId: invited.value.token.split('.')[0]!, createdAt: now, expiresAt: now + 300_000 });
      return { challenge, userHandle: invited.value.account.userHandle };
    },
    async authenticationChallenge() {
      const challenge = base64url.encode(new Uint8Array(randomBytes(32)));
      const now = t.clock.now;
      await t.store.ceremonies.create({ challengeHash: hashSecret(challenge), kind: 'authentication', accountId: null, invitationId: null, createdAt: now, expiresAt: now + 300_000 });
      return challenge;
    },
    async signer() {
      if (needNewSigner) {
        needNewSigner = false;
        await refresh();
      }
      return current.authenticator;
    },
    oidc() {
      oidc ??= createOidcState(t);
      return oidc;
    },
    observe(answer) {
      // A case that flagged the passkey, removed or renamed it, or signed the session out: start afresh.
      if (answer.error === 'passkey_flagged' || answer.error === 'passkey_sign_count_regressed') needNewSigner = true;
      if (answer.status === 204 || answer.error === 'session_expired') needNewCookie = true;
    },
  };
}
