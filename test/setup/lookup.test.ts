import { describe, expect, it } from 'vitest';
import { mkdtempSync, writeFileSync, chmodSync, symlinkSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { chooseChromium, CHROMIUM_CANDIDATES, isExecutableFile } from './chromium.ts';
import { answers } from './postgres.ts';

describe('which Chromium the browser tests use', () => {
  it('takes KEYBOUND_TEST_CHROMIUM as it is, before any installed browser', () => {
    expect(chooseChromium('/opt/my/chrome', () => true)).toEqual({ source: 'setting', path: '/opt/my/chrome' });
  });

  it('else the first installed candidate, Debian\'s /usr/bin/chromium first', () => {
    expect(CHROMIUM_CANDIDATES[0]).toBe('/usr/bin/chromium');
    expect(chooseChromium(undefined, (p) => p === '/usr/bin/google-chrome' || p === '/usr/bin/chromium')).toEqual({ source: 'installed', path: '/usr/bin/chromium' });
    expect(chooseChromium(undefined, (p) => p === '/usr/bin/google-chrome')).toEqual({ source: 'installed', path: '/usr/bin/google-chrome' });
    expect(chooseChromium('', (p) => p === '/snap/bin/chromium')).toEqual({ source: 'installed', path: '/snap/bin/chromium' });
  });

  it('else the build the dev dependency ships', () => {
    expect(chooseChromium(undefined, () => false)).toEqual({ source: 'package' });
  });

  it('counts only executable regular files (a folder, a plain file, /dev/null are not browsers); links are followed', () => {
    const dir = mkdtempSync(join(tmpdir(), 'keybound-lookup-'));
    const script = join(dir, 'chromium');
    writeFileSync(script, '#!/bin/sh\n');
    const plain = join(dir, 'plain');
    writeFileSync(plain, '');
    chmodSync(script, 0o755);
    symlinkSync(script, join(dir, 'link'));
    expect(isExecutableFile(script)).toBe(true);
    expect(isExecutableFile(join(dir, 'link'))).toBe(true);
    expect(isExecutableFile(plain)).toBe(false);
    expect(isExecutableFile(dir)).toBe(false);
    expect(isExecutableFile('/dev/null')).toBe(false);
    expect(isExecutableFile(join(dir, 'missing'))).toBe(false);
  });
});

describe('which PostgreSQL the tests use', () => {
  it('the one this run uses answers', async () => {
    expect(await answers(process.env.KEYBOUND_TEST_POSTGRES_URL ?? 'postgres://postgres@127.0.0.1:5432/test')).toBe(true);
  });

  it('a closed port does not count as a server', async () => {
    expect(await answers('postgres://postgres@127.0.0.1:1/test')).toBe(false);
  });
});
