/**
 * A deterministic zip: the same files give the same bytes, whatever the file
 * times, the order the file system lists them in, or the umask. Entries are
 * sorted by path, dated 1980-01-01 00:00, and carry Unix mode 0644, or 0755 for
 * executables, so `install.sh` and `test.sh` stay runnable.
 */
import { zipSync, type Zippable } from 'fflate';
import { UnsafeArchiveError, type ArchiveContent } from './archive-content';
import { pathClashProblems } from './path-clash';
import { displayPath, pathProblem } from './safe-path';

/** DOS epoch, built from local components because zip headers store local time. */
const FIXED_MTIME = new Date(1980, 0, 1, 0, 0, 0);
const UNIX = 3;
const S_IFREG = 0o100000;
/** Deflate level: fixed, because a different level gives different bytes. */
const LEVEL = 9;

/**
 * Zip bytes of a configuration; identical for identical content.
 * @throws UnsafeArchiveError when a path is not a safe relative path, or two paths are one file on
 * some file system (see {@link pathClashProblems})
 */
export function writeZip(content: ArchiveContent): Uint8Array {
  const problems = [...content.files.keys()]
    .map((path) => ({ path, problem: pathProblem(path) }))
    .filter((p): p is { path: string; problem: string } => p.problem !== undefined)
    .map((p) => ({ file: displayPath(p.path), message: p.problem }));
  if (problems.length === 0)
    problems.push(
      ...pathClashProblems(
        [...content.files.keys()].map((path) => ({ path })),
        'in the configuration',
      ),
    );
  if (problems.length > 0) throw new UnsafeArchiveError(problems);

  const entries: Zippable = {};
  for (const path of [...content.files.keys()].sort(byCodePoint)) {
    const mode = content.executables.has(path) ? 0o755 : 0o644;
    entries[path] = [content.files.get(path)!, { mtime: FIXED_MTIME, os: UNIX, attrs: ((S_IFREG | mode) << 16) >>> 0, level: LEVEL }];
  }
  return zipSync(entries);
}

function byCodePoint(a: string, b: string): number {
  return a < b ? -1 : a > b ? 1 : 0;
}
