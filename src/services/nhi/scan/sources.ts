import { execFile } from 'node:child_process';
import { readdir, readFile, stat } from 'node:fs/promises';
import { join, relative, sep } from 'node:path';
import { promisify } from 'node:util';

/**
 * What `keybound scan` reads: the files under a folder, and with `--git` the lines every commit
 * added. A source is a text with a location; `lineOffset` maps its lines to the file's.
 */
export interface Source {
  /** Path relative to the scanned folder, with `/`. */
  readonly path: string;
  readonly text: string;
  /** For git history: the commit that added the text. */
  readonly commit?: string;
  /** Line numbers of the text's lines in the file (history: the added lines are not contiguous). */
  readonly lines?: readonly number[];
}

const SKIPPED_DIRS = new Set(['node_modules', '.git']);
/** Larger files are skipped (and counted): secrets live in source and configuration, not in data dumps. */
export const MAX_FILE_BYTES = 5 * 1024 * 1024;

/** A file with a NUL byte in its first 8 KiB is binary (the test git itself uses). */
export function isBinary(bytes: Uint8Array): boolean {
  return bytes.subarray(0, 8192).includes(0);
}

export interface WalkStats {
  files: number;
  skipped: number;
}

/** Every text file under `root`, depth first, skipping node_modules, .git, binary and huge files. */
export async function* walkFiles(root: string, stats: WalkStats): AsyncGenerator<Source> {
  const top = await stat(root);
  if (top.isFile()) {
    const source = await readText(root, root.split(sep).pop()!, stats);
    if (source) yield source;
    return;
  }
  const pending = [root];
  while (pending.length > 0) {
    const dir = pending.pop()!;
    const entries = await readdir(dir, { withFileTypes: true });
    entries.sort((a, b) => (a.name < b.name ? 1 : -1));
    for (const entry of entries) {
      const full = join(dir, entry.name);
      if (entry.isDirectory()) {
        if (!SKIPPED_DIRS.has(entry.name)) pending.push(full);
      } else if (entry.isFile()) {
        const source = await readText(full, relative(root, full).split(sep).join('/'), stats);
        if (source) yield source;
      }
    }
  }
}

async function readText(full: string, path: string, stats: WalkStats): Promise<Source | null> {
  const info = await stat(full);
  if (info.size > MAX_FILE_BYTES) {
    stats.skipped++;
    return null;
  }
  const bytes = await readFile(full);
  if (isBinary(bytes)) {
    stats.skipped++;
    return null;
  }
  stats.files++;
  return { path, text: bytes.toString('utf8') };
}

const run = promisify(execFile);

/**
 * The lines each commit added, on every ref (`git log -p --all`), one source per commit and file.
 * git runs without a shell, its arguments fixed; `-U0` leaves only the hunks' own lines, and the
 * `@@ -a,b +c,d @@` headers give the line numbers in the new file.
 */
export async function gitAddedLines(root: string, stats: { commits: number }): Promise<Source[]> {
  const { stdout } = await run('git', ['-C', root, '-c', 'core.quotePath=false', 'log', '-p', '--all', '-U0', '--no-color', '--no-ext-diff', '--no-renames', '--format=commit %H'], {
    maxBuffer: 1024 * 1024 * 1024,
    encoding: 'utf8',
  });
  const sources: Source[] = [];
  let commit = '';
  let path: string | null = null;
  let lineNo = 0;
  let text: string[] = [];
  let lines: number[] = [];
  const flush = () => {
    if (path !== null && text.length > 0) sources.push({ path, commit, text: text.join('\n'), lines });
    text = [];
    lines = [];
  };
  for (const line of stdout.split('\n')) {
    if (line.startsWith('commit ') && /^commit [0-9a-f]{40,64}$/.test(line)) {
      flush();
      commit = line.slice('commit '.length);
      path = null;
      stats.commits++;
    } else if (line.startsWith('diff --git ')) {
      flush();
      path = null;
    } else if (line.startsWith('+++ ')) {
      path = line === '+++ /dev/null' ? null : line.slice(4).replace(/^b\//, '');
    } else if (line.startsWith('@@')) {
      const match = /^@@ -\d+(?:,\d+)? \+(\d+)(?:,\d+)? @@/.exec(line);
      lineNo = match ? Number(match[1]) : 0;
    } else if (line.startsWith('+') && path !== null) {
      text.push(line.slice(1));
      lines.push(lineNo++);
    }
  }
  flush();
  return sources;
}
