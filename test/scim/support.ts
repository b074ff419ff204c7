import { createApiKey } from '../../src/services/nhi/apiKeys.ts';
import { enrol, type TestApp } from '../helpers/app.ts';

/** Enrols `owner` and makes the API key with scope `scim` a provisioning client sends (docs/scim.md). */
export async function provisioningKey(t: TestApp, name = 'provisioning'): Promise<{ key: string; id: string }> {
  await enrol(t, 'owner');
  const made = await createApiKey(t.deps, { owner: 'owner', name, scopes: ['scim'], by: 'test' });
  if (!made.ok) throw new Error(made.message);
  return { key: made.value.key, id: made.value.id };
}
