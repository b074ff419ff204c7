import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { it, vi } from 'vitest';
import { verifyRegistration, REGISTRATION_ALGORITHMS } from '../../src/webauthn/registration.ts';
import { decodeAssertion, verifyAssertion } from '../../src/webauthn/assertion.ts';
import { importCoseKey } from '../../src/webauthn/cose.ts';
import { base64url } from '../../src/core/bytes.ts';

const root = join(import.meta.dirname, '../fixtures/webauthn');
const load = (dir: string) => readdirSync(join(root, dir)).filter((f) => f.endsWith('.json')).map((f) => JSON.parse(readFileSync(join(root, dir, f), 'utf8')));
const arr = (v: any) => (Array.isArray(v) ? v : [v]);
const w3cRoot = JSON.parse(readFileSync(join(root, 'w3c-spec/attestation-trust-root.json'), 'utf8')).attestation_ca_cert_pem;

it('explore', async () => {
  const lines: string[] = [];
  for (const dir of ['w3c-spec/registration', 'registration']) {
    for (const c of load(dir)) {
      const t = c.input.verification_time ?? '2026-07-30T00:00:00Z';
      vi.useFakeTimers({ toFake: ['Date'] });
      vi.setSystemTime(new Date(t));
      const outs: string[] = [];
      for (const [algs, anchors, tops] of [[REGISTRATION_ALGORITHMS, [], []], [[-7, -8, -257, -35, -36, -37, -38, -39], [w3cRoot], ['https://example.com']]] as any) {
        try {
          const r = await verifyRegistration(c.input.response, {
            challenge: c.input.expected_challenge_b64url, origins: arr(c.input.expected_origin), rpIds: arr(c.input.expected_rp_id),
            requireUserVerification: c.input.require_user_verification, allowedTopOrigins: tops, algorithms: algs,
            trust: { aaguids: [], anchors }, requireTrustedAttestation: false, now: Date.parse(t),
          });
          outs.push(r.ok ? `OK(trusted=${r.value.attestationTrusted},${r.value.trustReason})` : r.code);
        } catch (e) { outs.push('THROW ' + (e as Error).message); }
      }
      vi.useRealTimers();
      lines.push(`${c.id} [${c.expected.result}/${c.expected.reason ?? ''}] -> ${outs.join(' | ')}`);
    }
  }
  for (const dir of ['w3c-spec/authentication', 'authentication']) {
    for (const c of load(dir)) {
      const outs: string[] = [];
      for (const tops of [[], ['https://example.com']]) {
        try {
          const d = decodeAssertion(c.input.response);
          if (!d.ok) { outs.push('decode ' + d.code); continue; }
          let pk;
          try { pk = importCoseKey(base64url.decode(c.input.credential.public_key_cose_b64url)!); } catch (e) { outs.push('import ' + (e as any).reason + ' ' + (e as Error).message); continue; }
          const r = verifyAssertion(d.value, { publicKey: pk, signCount: c.input.credential.stored_sign_count, backupEligible: c.input.credential.backup_eligible }, {
            challenge: c.input.expected_challenge_b64url, origins: arr(c.input.expected_origin), rpIds: arr(c.input.expected_rp_id),
            requireUserVerification: c.input.require_user_verification ?? false, allowedTopOrigins: tops,
          });
          outs.push(r.ok ? `OK(count=${r.value.newSignCount})` : r.code);
        } catch (e) { outs.push('THROW ' + (e as Error).message); }
      }
      lines.push(`${c.id} [${c.expected.result}/${c.expected.reason ?? ''}] -> ${outs.join(' | ')}`);
    }
  }
  console.log(lines.join('\n'));
});
