import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { DataKeyring, generateDataKey, parseDataKeys } from './dataKeys.ts';
import type { Config } from '../config/load.ts';

/**
 * The data keyring: `KEYBOUND_DATA_KEYS` when set; otherwise, for a SQLite database, a key file
 * beside it (made on first use, readable by its owner only), so `npm start` works out of the box.
 * An in-memory database gets a key that lives as long as the process.
 */
export function resolveDataKeys(config: Config): { keyring: DataKeyring; source: string } {
  if (config.dataKeys) return { keyring: new DataKeyring(config.dataKeys), source: 'KEYBOUND_DATA_KEYS' };
  const path = config.databaseUrl.slice('sqlite:'.length);
  if (path === ':memory:') return { keyring: new DataKeyring(parseDataKeys(generateDataKey('ephemeral'))), source: 'ephemeral' };
  const file = join(dirname(resolve(path)), 'keybound.keys');
  mkdirSync(dirname(file), { recursive: true, mode: 0o700 });
  try {
    // `wx`: only one process ever creates the file; the others read what it wrote.
    writeFileSync(file, `${generateDataKey('k1')}\n`, { flag: 'wx', mode: 0o600 });
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code !== 'EEXIST') throw error;
  }
  return { keyring: new DataKeyring(parseDataKeys(readFileSync(file, 'utf8'))), source: file };
}
