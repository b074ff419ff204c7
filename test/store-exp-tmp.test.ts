import { test, expect } from 'vitest';
import { openDatabase } from '/work/main/src/store/db.ts';
import { migrate } from '/work/main/src/store/migrate.ts';
import { freshDatabase } from '/work/main/test/helpers/db.ts';
test('sqlite 3 handles', async () => {
  const fresh = await freshDatabase('sqlite');
  const dbs = [0, 1, 2].map(() => openDatabase(fresh.url));
  const t = Date.now();
  const r = await Promise.allSettled(dbs.map((d) => migrate(d)));
  console.log(Date.now() - t, JSON.stringify(r.map((x) => x.status === 'fulfilled' ? x.value : String(x.reason))));
  for (const d of dbs) await d.close();
  await fresh.drop();
});
