/**
 * Entry paths that are different strings but one file where an archive is extracted or
 * checked out, refused wherever entries are read (zips, feature tarballs), packed (a
 * folder) or written (a zip):
 *
 * - the same name in two Unicode normalisation forms (`café` as NFC, U+00E9, and as NFD,
 *   `e` + U+0301): macOS file systems (APFS, HFS+) store them as one file;
 * - names that differ only in case (`README.md`, `readme.md`): case-insensitive file
 *   systems (macOS and Windows by default) store them as one file; the build runs on
 *   Linux, but the configuration is edited, unpacked and built with `dcf local` there;
 * - a file that is also a folder (`a` and `a/b`): extracting one overwrites, or fails
 *   on, the other, on every file system.
 *
 * Either way one entry would silently replace the other, so which content is built
 * would depend on the machine. Exact duplicates are the readers' own check.
 */
import type { ConfigProblem } from '../config-files';
import { displayPath } from './safe-path';

/** A path of an archive entry (already safe by {@link pathProblem}) and whether it is a folder entry. */
export interface ArchiveEntryPath {
  readonly path: string;
  /**
   * A folder entry (a zip's `a/`, a tar directory); files' folders are implied.
   * @default false
   */
  readonly folder?: boolean;
}

/** Sorts below every character a safe path may hold (control characters are refused), so that joined segments sort as lists. */
const SEPARATOR = '\u0000';

/** How a file system that ignores case and normalisation sees a name. */
function fold(segment: string): string {
  return segment.normalize('NFC').toLowerCase().normalize('NFC');
}

/** Non-ASCII code points escaped, so that two spellings that look the same can be told apart: `caf\u{E9}`. */
export function escapedCodePoints(text: string): string {
  return [...text].map((c) => (c.codePointAt(0)! < 0x80 ? c : `\\u{${c.codePointAt(0)!.toString(16).toUpperCase()}}`)).join('');
}

const byKey = <T extends { readonly key: string }>(a: T, b: T) => (a.key < b.key ? -1 : a.key > b.key ? 1 : 0);

/**
 * Every clash among the paths, one problem for each (at the shallowest folder or name
 * where two spellings meet); empty when there is none. Runs in O(n log n) of the
 * paths' total length, whatever their depth.
 * @param where how the container is named in a message: `in the zip`, `in the folder`
 */
export function pathClashProblems(entries: Iterable<ArchiveEntryPath>, where: string): ConfigProblem[] {
  const kinds = new Map<string, { file: boolean; folder: boolean }>();
  for (const { path, folder } of entries) {
    const kind = kinds.get(path) ?? { file: false, folder: false };
    if (folder) kind.folder = true;
    else kind.file = true;
    kinds.set(path, kind);
  }
  const problems: ConfigProblem[] = [];
  for (const [path, kind] of kinds)
    if (kind.file && kind.folder) problems.push({ file: displayPath(path), message: `is both a file and a folder ${where}: rename one of them` });

  // Whatever is inside a path sorts right after it.
  const exact = [...kinds.keys()].map((path) => ({ path, key: path.split('/').join(SEPARATOR) })).sort(byKey);
  for (let i = 0; i + 1 < exact.length; i++) {
    const [a, b] = [exact[i], exact[i + 1]];
    if (kinds.get(a.path)!.file && b.key.startsWith(a.key + SEPARATOR)) {
      problems.push({ file: displayPath(a.path), message: `is a file, but ${displayPath(b.path)} is inside it as in a folder: rename one of them` });
    }
  }

  // Paths whose folded forms share a prefix sort together; two spellings of one folded name meet in a neighbouring pair.
  const folded = [...kinds.keys()]
    .map((path) => {
      const segments = path.split('/');
      const keys = segments.map(fold);
      return { segments, keys, key: keys.join(SEPARATOR) };
    })
    .sort(byKey);
  const reported = new Set<string>();
  for (let i = 0; i + 1 < folded.length; i++) {
    const [a, b] = [folded[i], folded[i + 1]];
    for (let s = 0; s < Math.min(a.segments.length, b.segments.length) && a.keys[s] === b.keys[s]; s++) {
      if (a.segments[s] === b.segments[s]) continue;
      const [first, second] = [a.segments.slice(0, s + 1).join('/'), b.segments.slice(0, s + 1).join('/')].sort();
      const id = first + SEPARATOR + second;
      if (!reported.has(id)) {
        reported.add(id);
        problems.push({ file: displayPath(first), message: clashMessage(first, second) });
      }
      break;
    }
  }
  return problems;
}

function clashMessage(first: string, second: string): string {
  const spellings = `${escapedCodePoints(first)} and ${escapedCodePoints(second)}`;
  if (first.normalize('NFC') === second.normalize('NFC')) {
    return (
      `clashes with ${displayPath(second)}: the two are one name written in two Unicode forms (${spellings}), ` +
      'and macOS file systems (APFS, HFS+) store them as one file, so one would overwrite the other; rename one, or write both in one form (NFC)'
    );
  }
  const nonAscii = escapedCodePoints(first + second) !== first + second;
  const how = first.toLowerCase() === second.toLowerCase() ? 'in case' : 'in case and Unicode form';
  return (
    `clashes with ${displayPath(second)}: the names differ only ${how}${nonAscii ? ` (${spellings})` : ''}, and case-insensitive file systems (macOS, and Windows by default) ` +
    'store them as one file, so one would overwrite the other where the configuration is checked out or unpacked; rename one of them'
  );
}
