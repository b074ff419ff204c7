/**
 * vitest global setup: finds the PostgreSQL and the Chromium the tests use, once per run, and starts
 * or unpacks its own when the machine has none (test/setup/postgres.ts, test/setup/chromium.ts).
 * Workers are forked after this runs and inherit what it puts in the environment.
 */
import { answers, DEFAULT_POSTGRES_URL, startEmbeddedPostgres } from './postgres.ts';
import { chooseChromium, packagedChromium } from './chromium.ts';

const log = (line: string) => process.stderr.write(`${line}\n`);

export default async function setup(): Promise<() => Promise<void>> {
  let stopPostgres: (() => Promise<void>) | undefined;
  if (!process.env.KEYBOUND_TEST_POSTGRES_URL && !(await answers(DEFAULT_POSTGRES_URL))) {
    const embedded = await startEmbeddedPostgres(log);
    process.env.KEYBOUND_TEST_POSTGRES_URL = embedded.url;
    stopPostgres = embedded.stop;
  }
  const choice = chooseChromium(process.env.KEYBOUND_TEST_CHROMIUM);
  if (choice.source === 'package') {
    const started = Date.now();
    process.env.KEYBOUND_TEST_CHROMIUM_FOUND = await packagedChromium();
    log(`tests: no Chromium installed; unpacked the one @sparticuz/chromium ships in ${Date.now() - started} ms (${process.env.KEYBOUND_TEST_CHROMIUM_FOUND})`);
  } else {
    process.env.KEYBOUND_TEST_CHROMIUM_FOUND = choice.path;
  }
  return async () => {
    await stopPostgres?.();
  };
}
