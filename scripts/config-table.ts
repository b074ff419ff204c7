// Writes the README's configuration table from src/config/defaults.ts, the one place defaults live:
// `npm run docs:config`. A test fails when the README and the defaults drift apart.
import { readFileSync, writeFileSync } from 'node:fs';
import { CONFIG_KEYS } from '../src/config/defaults.ts';

const START = '<!-- config:start -->';
const END = '<!-- config:end -->';
const rows = CONFIG_KEYS.map((key) => `| \`${key.env}\` | ${key.default === '' ? '(unset)' : `\`${key.default}\``} | ${key.doc} |`);
const table = ['| Key | Default | Meaning |', '|---|---|---|', ...rows].join('\n');
const path = new URL('../README.md', import.meta.url);
const readme = readFileSync(path, 'utf8');
const start = readme.indexOf(START);
const end = readme.indexOf(END);
if (start < 0 || end < start) throw new Error(`README.md needs ${START} and ${END} markers`);
writeFileSync(path, `${readme.slice(0, start + START.length)}\n${table}\n${readme.slice(end)}`);
process.stdout.write(`README.md: ${rows.length} configuration keys\n`);
