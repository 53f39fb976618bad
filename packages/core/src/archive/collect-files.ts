/**
 * Reads a configuration folder into memory, safely: honours `.gitignore`, leaves
 * `.git` out, follows only symlinks that stay inside the folder, refuses special
 * files, anything over the size limit, paths too long to extract, and names that
 * are one file on macOS or Windows (see {@link pathClashProblems}). Nothing is
 * half-read: either every file comes back or an {@link UnsafeArchiveError} lists
 * every problem.
 */
import type { Dirent, Stats } from 'node:fs';
import { lstat, readdir, readFile, readlink, realpath, stat } from 'node:fs/promises';
import { isAbsolute, join, relative, sep } from 'node:path';
import ignore, { type Ignore } from 'ignore';
import type { ConfigProblem } from '../config-files';
import { DEFAULT_MAX_CONFIGURATION_SIZE, UnsafeArchiveError, formatSize, type ArchiveContent } from './archive-content';
import { DEFAULT_MAX_ARCHIVE_ENTRIES } from './archive-limits';
import { pathClashProblems } from './path-clash';
import { displayPath, pathProblem } from './safe-path';

export interface CollectFilesOptions {
  /**
   * Largest total size of the files, in bytes.
   * @default DEFAULT_MAX_CONFIGURATION_SIZE (50 MiB)
   */
  readonly maxSize?: number;
  /**
   * Most files the configuration may hold: the same limit as the zip reader's,
   * so that what is packed can be read back.
   * @default DEFAULT_MAX_ARCHIVE_ENTRIES (10,000)
   */
  readonly maxEntries?: number;
  /**
   * Leave out what `.gitignore` files (at the root and in sub-folders) exclude.
   * @default true
   */
  readonly gitignore?: boolean;
}

interface IgnoreLevel {
  /** Folder of the `.gitignore`, relative to the root ('' for the root). */
  readonly base: string;
  readonly rules: Ignore;
}

interface Walk {
  readonly root: string;
  readonly realRoot: string;
  readonly maxSize: number;
  readonly gitignore: boolean;
  readonly files: Map<string, Uint8Array>;
  readonly executables: Set<string>;
  readonly problems: ConfigProblem[];
  /** Regular files found (path, size), read once the walk is known to be safe. */
  readonly pending: { rel: string; abs: string; size: number }[];
  total: number;
}

/**
 * The files of `dir`, keyed by POSIX path relative to it.
 * @throws UnsafeArchiveError listing every unsafe entry (nothing is returned half-read)
 */
export async function collectFiles(dir: string, options: CollectFilesOptions = {}): Promise<ArchiveContent> {
  let rootStats: Stats;
  try {
    rootStats = await stat(dir);
  } catch (e) {
    throw new UnsafeArchiveError([{ file: dir, message: `cannot read the folder (${(e as NodeJS.ErrnoException).code ?? String(e)}): check the path` }], {
      cause: e,
    });
  }
  if (!rootStats.isDirectory()) {
    throw new UnsafeArchiveError([{ file: dir, message: 'is not a folder: pass the folder that holds the configuration' }]);
  }
  const walk: Walk = {
    root: dir,
    realRoot: await realpath(dir),
    maxSize: options.maxSize ?? DEFAULT_MAX_CONFIGURATION_SIZE,
    gitignore: options.gitignore ?? true,
    files: new Map(),
    executables: new Set(),
    problems: [],
    pending: [],
    total: 0,
  };
  await walkFolder(walk, dir, '', [], new Set([walk.realRoot]));

  if (walk.total > walk.maxSize) {
    const largest = [...walk.pending].sort((a, b) => b.size - a.size).slice(0, 3);
    walk.problems.push({
      file: '.',
      message:
        `the configuration holds ${formatSize(walk.total)}, over the limit of ${formatSize(walk.maxSize)}: ` +
        `leave large files out (add them to .gitignore) or raise the limit (--max-size); largest: ` +
        largest.map((f) => `${f.rel} (${formatSize(f.size)})`).join(', '),
    });
  }
  const maxEntries = options.maxEntries ?? DEFAULT_MAX_ARCHIVE_ENTRIES;
  if (walk.pending.length > maxEntries) {
    walk.problems.push({
      file: '.',
      message: `the configuration holds ${walk.pending.length} files, over the limit of ${maxEntries} (maxEntries): leave generated files and dependencies out (add them to .gitignore)`,
    });
  }
  walk.problems.push(
    ...pathClashProblems(
      walk.pending.map((f) => ({ path: f.rel })),
      'in the folder',
    ),
  );
  if (walk.problems.length > 0) throw new UnsafeArchiveError(walk.problems);

  for (const f of walk.pending) {
    const bytes = await readFile(f.abs);
    walk.files.set(f.rel, new Uint8Array(bytes.buffer, bytes.byteOffset, bytes.byteLength));
  }
  // Sorted, so that callers that iterate see the same order whatever the file system returned.
  const files = new Map([...walk.files.entries()].sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0)));
  return { files, executables: walk.executables };
}

async function walkFolder(walk: Walk, abs: string, rel: string, levels: readonly IgnoreLevel[], ancestors: ReadonlySet<string>): Promise<void> {
  let entries: Dirent[];
  try {
    entries = await readdir(abs, { withFileTypes: true });
  } catch (e) {
    walk.problems.push({ file: rel || '.', message: `cannot read the folder (${(e as NodeJS.ErrnoException).code ?? String(e)}): fix its permissions` });
    return;
  }
  const here = walk.gitignore ? await gitignoreLevel(abs, rel) : undefined;
  const active = here ? [...levels, here] : levels;
  entries.sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0));

  for (const entry of entries) {
    const childRel = rel ? `${rel}/${entry.name}` : entry.name;
    const childAbs = join(abs, entry.name);
    if (entry.name === '.git') continue;
    const problem = pathProblem(childRel);
    if (problem) {
      walk.problems.push({ file: displayPath(childRel), message: problem });
      continue;
    }
    let info = await lstat(childAbs);
    if (isIgnored(active, childRel, info.isDirectory())) continue;

    if (info.isSymbolicLink()) {
      const target = await symlinkTarget(walk, childAbs, childRel);
      if (!target) continue;
      info = target.info;
      if (info.isDirectory()) {
        if (ancestors.has(target.real)) {
          walk.problems.push({ file: childRel, message: 'is a symlink that loops back to a folder that contains it: remove it' });
          continue;
        }
        await walkFolder(walk, childAbs, childRel, active, new Set([...ancestors, target.real]));
        continue;
      }
    } else if (info.isDirectory()) {
      await walkFolder(walk, childAbs, childRel, active, new Set([...ancestors, await realpath(childAbs)]));
      continue;
    }

    if (!info.isFile()) {
      walk.problems.push({
        file: childRel,
        message: `is a ${specialKind(info)}: only regular files, folders and symlinks to files inside the folder can be packed; remove it or add it to .gitignore`,
      });
      continue;
    }
    walk.total += info.size;
    walk.pending.push({ rel: childRel, abs: childAbs, size: info.size });
    if ((info.mode & 0o111) !== 0) walk.executables.add(childRel);
  }
}

async function gitignoreLevel(abs: string, rel: string): Promise<IgnoreLevel | undefined> {
  const file = join(abs, '.gitignore');
  let info: Stats;
  try {
    info = await lstat(file);
  } catch {
    return undefined;
  }
  if (!info.isFile()) return undefined; // a symlinked or special .gitignore is reported when the walk reaches it
  const text = await readFile(file, 'utf8');
  return { base: rel, rules: ignore().add(text) };
}

function isIgnored(levels: readonly IgnoreLevel[], rel: string, isDirectory: boolean): boolean {
  let ignored = false;
  for (const level of levels) {
    const local = level.base ? rel.slice(level.base.length + 1) : rel;
    const result = level.rules.test(isDirectory ? `${local}/` : local);
    if (result.ignored) ignored = true;
    else if (result.unignored) ignored = false;
  }
  return ignored;
}

async function symlinkTarget(walk: Walk, abs: string, rel: string): Promise<{ real: string; info: Stats } | undefined> {
  const link = await readlink(abs);
  let real: string;
  try {
    real = await realpath(abs);
  } catch {
    walk.problems.push({ file: rel, message: `is a symlink to '${link}', which does not exist: remove it or point it at a file inside the folder` });
    return undefined;
  }
  const inside = relative(walk.realRoot, real);
  if (inside === '..' || inside.startsWith(`..${sep}`) || isAbsolute(inside)) {
    walk.problems.push({ file: rel, message: `is a symlink to '${link}', outside the folder: replace it with a copy of what it points to` });
    return undefined;
  }
  return { real, info: await stat(abs) };
}

function specialKind(info: Stats): string {
  if (info.isFIFO()) return 'FIFO (named pipe)';
  if (info.isSocket()) return 'socket';
  if (info.isCharacterDevice()) return 'character device';
  if (info.isBlockDevice()) return 'block device';
  return 'special file';
}
