/**
 * Where the instructions of a counted batch went, function by function, from the dumps
 * `bench/instructions.ts --perf-map` keeps: each function's own instructions in the large batch's dump
 * minus the small batch's, divided by the requests between them. Node's compiled JavaScript appears in
 * a dump as bare addresses; the map node writes with `--perf-basic-prof` names them.
 *
 *   npx tsx bench/callgrindProfile.ts <dir> <perf map> [--per 1200] [--top 40]
 *                                     [--against <dir> <perf map>]
 *
 * `<dir>` holds `callgrind.out.1` (the small batch) and `callgrind.out.2` (the large one). With
 * `--against`, a second run's profile is subtracted from the first's and the largest differences
 * either way are listed (how the passkey sign-in of two trees was compared, BENCHMARKS.md "seventh
 * look").
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { parseArgs } from 'node:util';

const { values, positionals } = parseArgs({
  allowPositionals: true,
  options: { per: { type: 'string', default: '1200' }, top: { type: 'string', default: '40' }, against: { type: 'boolean', default: false } },
});
if (positionals.length !== 2 && positionals.length !== 4) {
  process.stderr.write('usage: npx tsx bench/callgrindProfile.ts <dir> <perf map> [--per 1200] [--top 40] [--against <dir> <perf map>]\n');
  process.exit(2);
}
const per = Number(values.per);
const top = Number(values.top);

/** Each (object, function)'s own instructions in one dump. Call lines carry the callee's inclusive cost and are skipped. */
function selfCosts(file: string): Map<string, number> {
  const objects = new Map<string, string>();
  const functions = new Map<string, string>();
  // Callgrind compresses repeated names: "(12) name" the first time, "(12)" after.
  const name = (table: Map<string, string>, text: string) => {
    const m = /^\((\d+)\)(?: (.*))?$/.exec(text);
    if (!m) return text;
    if (m[2] !== undefined) table.set(m[1]!, m[2]);
    return table.get(m[1]!) ?? text;
  };
  const out = new Map<string, number>();
  let object = '?';
  let fn = '?';
  let afterCall = false;
  for (const line of readFileSync(file, 'utf8').split('\n')) {
    if (line.startsWith('ob=')) object = name(objects, line.slice(3));
    else if (line.startsWith('fn=')) fn = name(functions, line.slice(3));
    else if (line.startsWith('cob=')) name(objects, line.slice(4));
    else if (line.startsWith('cfn=')) name(functions, line.slice(4));
    else if (line.startsWith('calls=')) afterCall = true;
    else if (/^[\d+*-]/.test(line)) {
      if (afterCall) afterCall = false;
      else {
        const cost = Number(line.split(' ')[1] ?? 0);
        const key = `${object}\u0000${fn}`;
        out.set(key, (out.get(key) ?? 0) + cost);
      }
    }
  }
  return out;
}

/** Names JIT addresses from a perf map (`start size name` per line, hex). */
function namer(mapFile: string): (fn: string) => string {
  const rows = readFileSync(mapFile, 'utf8')
    .split('\n')
    .filter(Boolean)
    .map((l) => {
      const [start, size, ...rest] = l.split(' ');
      return { start: parseInt(start!, 16), end: parseInt(start!, 16) + parseInt(size!, 16), name: rest.join(' ') };
    })
    .sort((a, b) => a.start - b.start);
  return (fn) => {
    const m = /^0x([0-9a-f]+)/.exec(fn);
    if (!m) return fn;
    const address = parseInt(m[1]!, 16);
    let lo = 0;
    let hi = rows.length - 1;
    while (lo <= hi) {
      const mid = (lo + hi) >> 1;
      if (rows[mid]!.start <= address) lo = mid + 1;
      else hi = mid - 1;
    }
    const row = rows[hi];
    // Tier markers and the file's folder go: the same function in two trees should compare equal.
    return row && address < row.end ? row.name.replace(/^(JS|Function|LazyCompile|Builtin|BytecodeHandler|RegExp):[*~^+-]?/, '').replace(/ (?:file:\/\/)?\/\S*\/([^/ ]+:\d+:\d+)$/, ' $1') : fn;
  };
}

/** Own instructions per request, by `object: function`. */
function profile(dir: string, mapFile: string): Map<string, number> {
  const large = selfCosts(join(dir, 'callgrind.out.2'));
  const small = selfCosts(join(dir, 'callgrind.out.1'));
  const named = namer(mapFile);
  const out = new Map<string, number>();
  for (const [key, cost] of large) {
    const [object, fn] = key.split('\u0000') as [string, string];
    const label = `${object.split('/').at(-1)}: ${named(fn)}`;
    out.set(label, (out.get(label) ?? 0) + (cost - (small.get(key) ?? 0)) / per);
  }
  for (const [key, cost] of small) if (!large.has(key)) {
    const [object, fn] = key.split('\u0000') as [string, string];
    const label = `${object.split('/').at(-1)}: ${named(fn)}`;
    out.set(label, (out.get(label) ?? 0) - cost / per);
  }
  return out;
}

const fmt = (n: number) => Math.round(n).toLocaleString('en').padStart(11);
const byObject = (p: Map<string, number>) => {
  const out = new Map<string, number>();
  for (const [label, v] of p) out.set(label.split(': ')[0]!, (out.get(label.split(': ')[0]!) ?? 0) + v);
  return out;
};
const first = profile(positionals[0]!, positionals[1]!);
if (positionals.length === 2) {
  const total = [...first.values()].reduce((a, b) => a + b, 0);
  process.stdout.write(`${fmt(total)} instructions per request\n\nby object:\n`);
  for (const [o, v] of [...byObject(first)].sort((a, b) => b[1] - a[1]).slice(0, 10)) process.stdout.write(`${fmt(v)}  ${o}\n`);
  process.stdout.write('\nby function (own instructions):\n');
  for (const [f, v] of [...first].sort((a, b) => b[1] - a[1]).slice(0, top)) process.stdout.write(`${fmt(v)}  ${f}\n`);
} else {
  const second = profile(positionals[2]!, positionals[3]!);
  const sum = (p: Map<string, number>) => [...p.values()].reduce((a, b) => a + b, 0);
  process.stdout.write(`${fmt(sum(first))} against ${fmt(sum(second)).trim()} instructions per request\n\nby object (first, second, difference):\n`);
  const objects = [byObject(first), byObject(second)] as const;
  for (const o of new Set([...objects[0].keys(), ...objects[1].keys()])) {
    const [a, b] = [objects[0].get(o) ?? 0, objects[1].get(o) ?? 0];
    if (Math.abs(a) + Math.abs(b) >= 1000) process.stdout.write(`${fmt(a)} ${fmt(b)} ${fmt(a - b)}  ${o}\n`);
  }
  const diffs = [...new Set([...first.keys(), ...second.keys()])].map((k) => [k, first.get(k) ?? 0, second.get(k) ?? 0] as const).sort((x, y) => y[1] - y[2] - (x[1] - x[2]));
  process.stdout.write('\nlargest increases (first, second, difference):\n');
  for (const [k, a, b] of diffs.slice(0, top)) process.stdout.write(`${fmt(a)} ${fmt(b)} ${fmt(a - b)}  ${k}\n`);
  process.stdout.write('\nlargest decreases:\n');
  for (const [k, a, b] of diffs.slice(-Math.min(top, 15)).reverse()) process.stdout.write(`${fmt(a)} ${fmt(b)} ${fmt(a - b)}  ${k}\n`);
}
