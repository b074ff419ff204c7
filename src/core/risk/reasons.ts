/** Each risk reason in words, for people (API answers, /account, the step-up page). */
export const REASON_WORDS: Readonly<Record<string, string>> = {
  new_device: 'a passkey or browser this account has not used before',
  new_country: 'a country this account has not signed in from before',
  impossible_travel: 'too far from the last sign-in for the time between them',
  privileged_action: 'an administrative action',
  sensitive_client: 'an application marked sensitive',
  session_address_changed: 'the session is used from a new network address',
  session_agent_changed: 'the session is used from another browser',
  failure_velocity: 'many failed sign-ins in a short time',
  sim_changed: 'the SIM card of the phone number changed recently',
  max_age: 'the last sign-in is too old',
  acr_unmet: 'the last sign-in was not strong enough',
  passkey_required: 'this needs a sign-in with a passkey',
  passkey_unusable: 'the passkey of this session is no longer usable',
  fresh_requested: 'the application asks for a new sign-in',
  no_session: 'not signed in',
  factor_not_allowed: 'this sign-in method is not allowed for the role',
  passkey_synced_not_allowed: 'the role needs a device-bound passkey',
};

export function reasonInWords(reason: string): string {
  return REASON_WORDS[reason] ?? (reason.startsWith('policy:') ? `the rule ${reason.slice(7)} of the risk policy` : reason.replaceAll('_', ' '));
}

/** One sentence listing every reason. */
export function reasonsInWords(reasons: readonly string[]): string {
  return reasons.map(reasonInWords).join('; ');
}
