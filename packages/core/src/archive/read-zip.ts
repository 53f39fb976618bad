/**
 * The one reader of uploaded zips (a configuration for `dcf`, the source zip of
 * the Prepare action), with the same safety rules as packing: no absolute or
 * `..` paths (zip-slip), no symlinks or special entries, no encryption, no
 * duplicates (nor names that are one file on macOS or Windows, see
 * {@link pathClashProblems}), no names too long to extract, CRCs checked.
 *
 * Memory is bounded whatever the input: the entry count, each entry's and the
 * total inflated size and the compression ratio are checked on the declared
 * sizes before anything is inflated, and on the real bytes while inflating
 * (in small steps), so that a zip bomb stops at the limit.
 *
 * What another zip reader (unzip, Python, the devcontainer CLI's) would read
 * differently is refused, not guessed at: a central directory that does not
 * fill the space the end record gives it (a wrapped entry count, more than
 * 65,535 entries without ZIP64), a local header that disagrees with the
 * central directory, overlapping entries, bytes between entries, data after
 * the end record, names that are not plain UTF-8.
 */
import { Inflate } from 'fflate';
import type { ConfigProblem } from '../config-files';
import { UnsafeArchiveError, formatSize, type ArchiveContent } from './archive-content';
import { COMPRESSION_RATIO_FLOOR, resolveArchiveLimits, type ArchiveLimits, type ResolvedArchiveLimits } from './archive-limits';
import { pathClashProblems } from './path-clash';
import { crc32 } from './private/crc32';
import { displayPath, pathProblem } from './safe-path';

export interface ReadZipOptions extends ArchiveLimits {
  /**
   * Which files to keep, by path. Every entry is still checked (paths, sizes,
   * CRCs); the others are inflated to check them, then dropped.
   * @default - every file is kept
   */
  readonly select?: (path: string) => boolean;
}

interface CentralEntry {
  readonly index: number;
  readonly name: string;
  readonly nameBytes: Uint8Array;
  readonly flags: number;
  readonly method: number;
  readonly crc: number;
  readonly compressedSize: number;
  readonly size: number;
  readonly madeByOs: number;
  readonly externalAttributes: number;
  readonly localHeaderOffset: number;
}

interface LocatedEntry {
  readonly entry: CentralEntry;
  /** Where the compressed data starts and ends. */
  readonly dataStart: number;
  readonly dataEnd: number;
  /** Where the entry (local header, data, data descriptor) ends. */
  readonly end: number;
}

const EOCD_SIGNATURE = 0x06054b50;
const ZIP64_LOCATOR_SIGNATURE = 0x07064b50;
const CENTRAL_SIGNATURE = 0x02014b50;
const LOCAL_SIGNATURE = 0x04034b50;
const DESCRIPTOR_SIGNATURE = 0x08074b50;
const ZIP64_EXTRA = 0x0001;
const UNICODE_PATH_EXTRA = 0x7075;
const FLAG_ENCRYPTED = 0x1;
const FLAG_DATA_DESCRIPTOR = 0x8;
const FLAG_UTF8 = 0x800;
const UNIX = 3;
const S_IFMT = 0o170000;
const S_IFREG = 0o100000;
const S_IFDIR = 0o040000;
const S_IFLNK = 0o120000;
/** Compressed bytes fed to the inflater per step: at most ~1 MiB of output comes out of one step. */
const INFLATE_STEP = 1024;

/**
 * The files of a zip, keyed by their path inside it; directories are implied.
 * @throws UnsafeArchiveError listing every unsafe entry, or the first structural
 * problem or limit reached; nothing is returned half-read
 */
export function readZip(bytes: Uint8Array, options: ReadZipOptions = {}): ArchiveContent {
  const limits = resolveArchiveLimits(options);
  const directory = centralDirectory(bytes, limits);
  const entries = locateEntries(bytes, directory.entries, directory.start);
  const problems: ConfigProblem[] = [];
  const seen = new Set<string>();
  const folders = new Set<string>();
  const fileEntries: LocatedEntry[] = [];
  let declared = 0;

  for (const located of entries) {
    const { entry } = located;
    const isDir = entry.name.endsWith('/') || (entry.madeByOs === UNIX && ((entry.externalAttributes >>> 16) & S_IFMT) === S_IFDIR);
    const path = entry.name.endsWith('/') ? entry.name.slice(0, -1) : entry.name;
    const problem = pathProblem(path);
    if (problem) {
      problems.push({ file: displayPath(entry.name), message: `unsafe entry: ${problem}` });
      continue;
    }
    if (isDir) {
      folders.add(path);
      if (entry.size !== 0) problems.push({ file: path, message: 'is a folder entry that holds data: pack the configuration again' });
      continue;
    }
    const kind = entry.madeByOs === UNIX ? (entry.externalAttributes >>> 16) & S_IFMT : 0;
    if (kind === S_IFLNK) {
      problems.push({ file: path, message: 'is a symlink: zip only regular files (replace the link with a copy of what it points to)' });
      continue;
    }
    if (kind !== 0 && kind !== S_IFREG) {
      problems.push({ file: path, message: 'is a special file (not a regular file): remove it from the zip' });
      continue;
    }
    if (entry.flags & FLAG_ENCRYPTED) {
      problems.push({ file: path, message: 'is encrypted: upload an unencrypted zip' });
      continue;
    }
    if (entry.method !== 0 && entry.method !== 8) {
      problems.push({ file: path, message: `uses compression method ${entry.method}: only stored and deflate entries are read (pack it with dcf pack)` });
      continue;
    }
    if (seen.has(path)) {
      problems.push({ file: path, message: 'appears more than once in the zip: keep one entry per path' });
      continue;
    }
    seen.add(path);
    const sizeProblem = declaredSizeProblem(entry, limits);
    if (sizeProblem) {
      problems.push({ file: path, message: sizeProblem });
      continue;
    }
    declared += entry.size;
    fileEntries.push(located);
  }
  // `a` as a file and `a/b` beside it, `café` twice (NFC and NFD), `README` and `readme`: one file where it is extracted.
  problems.push(...pathClashProblems([...[...seen].map((path) => ({ path })), ...[...folders].map((path) => ({ path, folder: true }))], 'in the zip'));
  if (declared > limits.maxSize) {
    problems.push({ file: '.', message: `the zip expands to ${formatSize(declared)}, over the limit of ${formatSize(limits.maxSize)}: leave large files out` });
  }
  if (problems.length > 0) throw new UnsafeArchiveError(problems);

  const files = new Map<string, Uint8Array>();
  const executables = new Set<string>();
  for (const located of fileEntries) {
    const { entry } = located;
    const keep = options.select?.(entry.name) ?? true;
    const data = inflateEntry(bytes, located, keep);
    if (!keep) continue;
    files.set(entry.name, data);
    if (entry.madeByOs === UNIX && ((entry.externalAttributes >>> 16) & 0o111) !== 0) executables.add(entry.name);
  }
  return { files: new Map([...files.entries()].sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0))), executables };
}

function corrupt(message: string, cause?: unknown): UnsafeArchiveError {
  return new UnsafeArchiveError([{ file: '.', message: `not a readable zip: ${message}` }], { cause });
}

/** Other readers see different files: refused, with what differs. */
function ambiguous(message: string): UnsafeArchiveError {
  return corrupt(`${message}; zip tools would read it differently, so it is refused (pack the configuration again with dcf pack)`);
}

/** Why an entry's declared sizes exceed a limit, before anything is inflated. */
function declaredSizeProblem(entry: CentralEntry, limits: ResolvedArchiveLimits): string | undefined {
  // A file over maxSize is reported once, as the whole zip being over it.
  if (entry.size > limits.maxEntrySize && limits.maxEntrySize < limits.maxSize) {
    return `expands to ${formatSize(entry.size)}, over the limit of ${formatSize(limits.maxEntrySize)} per file (maxEntrySize): leave large files out`;
  }
  if (entry.method === 0 && entry.compressedSize !== entry.size) return 'is stored (not compressed) but its sizes differ: pack the configuration again';
  if (entry.size > COMPRESSION_RATIO_FLOOR && entry.size > limits.maxCompressionRatio * entry.compressedSize) {
    return (
      `expands ${Math.round(entry.size / Math.max(1, entry.compressedSize))} times (${formatSize(entry.compressedSize)} to ${formatSize(entry.size)}), ` +
      `over the compression ratio limit of ${limits.maxCompressionRatio} (maxCompressionRatio): this looks like a zip bomb; leave filler files out`
    );
  }
  return undefined;
}

/** The end-of-central-directory record's offset; it must end the file exactly, comment included. */
function endRecord(bytes: Uint8Array, view: DataView): number {
  // The record is 22 bytes plus a comment of up to 64 KiB.
  const candidates: number[] = [];
  let signatures = 0;
  for (let i = bytes.length - 22; i >= Math.max(0, bytes.length - 22 - 0xffff); i--) {
    if (view.getUint32(i, true) !== EOCD_SIGNATURE) continue;
    signatures++;
    if (i + 22 + view.getUint16(i + 20, true) === bytes.length) candidates.push(i);
  }
  if (candidates.length === 0)
    throw signatures === 0 ? corrupt('no end-of-central-directory record') : ambiguous('there are bytes after the end-of-central-directory record');
  if (candidates.length > 1) throw ambiguous('the zip comment holds a second end-of-central-directory record');
  return candidates[0];
}

function centralDirectory(bytes: Uint8Array, limits: ResolvedArchiveLimits): { entries: CentralEntry[]; start: number } {
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const eocd = endRecord(bytes, view);
  const disk = view.getUint16(eocd + 4, true);
  const directoryDisk = view.getUint16(eocd + 6, true);
  const countOnDisk = view.getUint16(eocd + 8, true);
  const count = view.getUint16(eocd + 10, true);
  const size = view.getUint32(eocd + 12, true);
  const offset = view.getUint32(eocd + 16, true);
  if (
    count === 0xffff ||
    countOnDisk === 0xffff ||
    size === 0xffffffff ||
    offset === 0xffffffff ||
    (eocd >= 20 && view.getUint32(eocd - 20, true) === ZIP64_LOCATOR_SIGNATURE)
  ) {
    throw corrupt('ZIP64 archives are not supported (a configuration is far smaller)');
  }
  if (disk !== 0 || directoryDisk !== 0 || countOnDisk !== count) throw corrupt('multi-part (split) zips are not supported');
  if (count > limits.maxEntries) throw tooManyEntries(count, limits);
  if (offset + size > eocd) throw corrupt('the central directory lies outside the file');
  if (offset + size !== eocd) throw ambiguous(`${eocd - offset - size} bytes lie between the central directory and the end record`);

  const entries: CentralEntry[] = [];
  const end = offset + size;
  let p = offset;
  while (p < end) {
    const i = entries.length;
    if (i >= count) {
      // More entries than the (16-bit) count says: other readers see them all.
      throw i >= limits.maxEntries
        ? tooManyEntries(i + 1, limits)
        : ambiguous(`the central directory holds more entries than the ${count} its end record counts`);
    }
    if (p + 46 > end || view.getUint32(p, true) !== CENTRAL_SIGNATURE) throw corrupt(`central directory entry ${i + 1} is damaged`);
    const nameLength = view.getUint16(p + 28, true);
    const extraLength = view.getUint16(p + 30, true);
    const commentLength = view.getUint16(p + 32, true);
    const next = p + 46 + nameLength + extraLength + commentLength;
    if (next > end) throw corrupt(`central directory entry ${i + 1} is damaged`);
    if (view.getUint16(p + 34, true) !== 0) throw corrupt('multi-part (split) zips are not supported');
    const flags = view.getUint16(p + 8, true);
    const nameBytes = bytes.subarray(p + 46, p + 46 + nameLength);
    const name = entryName(nameBytes, i);
    checkExtraFields(bytes.subarray(p + 46 + nameLength, p + 46 + nameLength + extraLength), nameBytes, name, flags);
    entries.push({
      index: i,
      madeByOs: view.getUint8(p + 5),
      flags,
      method: view.getUint16(p + 10, true),
      crc: view.getUint32(p + 16, true),
      compressedSize: view.getUint32(p + 20, true),
      size: view.getUint32(p + 24, true),
      externalAttributes: view.getUint32(p + 38, true),
      localHeaderOffset: view.getUint32(p + 42, true),
      nameBytes,
      name,
    });
    p = next;
  }
  if (entries.length !== count) throw ambiguous(`the end record counts ${count} entries but the central directory holds ${entries.length}`);
  return { entries, start: offset };
}

function tooManyEntries(count: number, limits: ResolvedArchiveLimits): UnsafeArchiveError {
  return new UnsafeArchiveError([
    {
      file: '.',
      message: `the zip holds ${count} or more entries, over the limit of ${limits.maxEntries} (maxEntries): leave generated files and dependencies out`,
    },
  ]);
}

const utf8 = new TextDecoder('utf-8', { fatal: true });

/** An entry's name, which must be valid UTF-8 (ASCII included); see {@link checkExtraFields} for unflagged non-ASCII names. */
function entryName(nameBytes: Uint8Array, index: number): string {
  try {
    return utf8.decode(nameBytes);
  } catch {
    throw ambiguous(`the name of entry ${index + 1} is not UTF-8`);
  }
}

/**
 * Extra fields must be well-formed; a ZIP64 field is refused, and a Unicode
 * path field (which Info-ZIP's unzip uses instead of the name) must hold the
 * name itself. A non-ASCII name without the UTF-8 flag needs that field.
 */
function checkExtraFields(extra: Uint8Array, nameBytes: Uint8Array, name: string, flags: number): void {
  const view = new DataView(extra.buffer, extra.byteOffset, extra.byteLength);
  let unicodePath = false;
  let p = 0;
  while (p < extra.length) {
    if (p + 4 > extra.length) throw corrupt(`the extra field of ${displayPath(name)} is damaged`);
    const id = view.getUint16(p, true);
    const length = view.getUint16(p + 2, true);
    if (p + 4 + length > extra.length) throw corrupt(`the extra field of ${displayPath(name)} is damaged`);
    const data = extra.subarray(p + 4, p + 4 + length);
    if (id === ZIP64_EXTRA) throw corrupt('ZIP64 archives are not supported (a configuration is far smaller)');
    if (id === UNICODE_PATH_EXTRA) {
      const same =
        data.length >= 5 &&
        data[0] === 1 &&
        new DataView(data.buffer, data.byteOffset, 5).getUint32(1, true) === crc32(nameBytes) &&
        Buffer.from(data.subarray(5)).equals(Buffer.from(nameBytes));
      if (!same) throw ambiguous(`${displayPath(name)} carries a Unicode path field with another name`);
      unicodePath = true;
    }
    p += 4 + length;
  }
  if (!unicodePath && !(flags & FLAG_UTF8) && nameBytes.some((b) => b >= 0x80)) {
    // Without the flag or the field, unzip reads the name as code page 437 and we would read UTF-8.
    throw ambiguous(`${displayPath(name)} has a non-ASCII name without the UTF-8 flag`);
  }
}

/** Each entry's local header, checked against the central directory, and the entries' layout: back to back, from byte 0 to the directory. */
function locateEntries(bytes: Uint8Array, entries: readonly CentralEntry[], directoryStart: number): LocatedEntry[] {
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const located: LocatedEntry[] = entries.map((entry) => {
    const at = entry.localHeaderOffset;
    const label = displayPath(entry.name);
    if (at + 30 > directoryStart || view.getUint32(at, true) !== LOCAL_SIGNATURE) throw corrupt(`the local header of ${label} is missing`);
    const flags = view.getUint16(at + 6, true);
    const method = view.getUint16(at + 8, true);
    const crc = view.getUint32(at + 14, true);
    const compressedSize = view.getUint32(at + 18, true);
    const size = view.getUint32(at + 22, true);
    const nameLength = view.getUint16(at + 26, true);
    const extraLength = view.getUint16(at + 28, true);
    const dataStart = at + 30 + nameLength + extraLength;
    if (dataStart > directoryStart) throw corrupt(`the local header of ${label} runs into the central directory`);
    const localName = bytes.subarray(at + 30, at + 30 + nameLength);
    if (!Buffer.from(localName).equals(Buffer.from(entry.nameBytes))) throw ambiguous(`the local header of ${label} names another file`);
    if (flags !== entry.flags || method !== entry.method)
      throw ambiguous(`the local header of ${label} has other flags or another compression method than the central directory`);
    const deferred = (flags & FLAG_DATA_DESCRIPTOR) !== 0;
    const agrees = (local: number, central: number) => local === central || (deferred && local === 0);
    if (!agrees(crc, entry.crc) || !agrees(compressedSize, entry.compressedSize) || !agrees(size, entry.size)) {
      throw ambiguous(`the local header of ${label} declares other sizes or another CRC than the central directory`);
    }
    checkExtraFields(bytes.subarray(at + 30 + nameLength, dataStart), localName, entry.name, flags);
    const dataEnd = dataStart + entry.compressedSize;
    if (dataEnd > directoryStart) throw corrupt(`the data of ${label} runs into the central directory`);
    let end = dataEnd;
    if (deferred) {
      const signed = dataEnd + 4 <= directoryStart && view.getUint32(dataEnd, true) === DESCRIPTOR_SIGNATURE;
      const d = signed ? dataEnd + 4 : dataEnd;
      if (d + 12 > directoryStart) throw corrupt(`the data descriptor of ${label} is missing`);
      if (view.getUint32(d, true) !== entry.crc || view.getUint32(d + 4, true) !== entry.compressedSize || view.getUint32(d + 8, true) !== entry.size) {
        throw ambiguous(`the data descriptor of ${label} declares other sizes or another CRC than the central directory`);
      }
      end = d + 12;
    }
    return { entry, dataStart, dataEnd, end };
  });

  const byOffset = [...located].sort((a, b) => a.entry.localHeaderOffset - b.entry.localHeaderOffset);
  let expected = 0;
  let previous: LocatedEntry | undefined;
  for (const item of byOffset) {
    const at = item.entry.localHeaderOffset;
    if (at < expected) {
      throw ambiguous(
        `${displayPath(item.entry.name)} overlaps ${previous ? displayPath(previous.entry.name) : 'another entry'} (overlapping entries are a zip-bomb technique)`,
      );
    }
    if (at > expected) throw ambiguous(`${at - expected} bytes before ${displayPath(item.entry.name)} belong to no entry (they may hide other files)`);
    expected = item.end;
    previous = item;
  }
  if (expected !== directoryStart)
    throw ambiguous(`${directoryStart - expected} bytes before the central directory belong to no entry (they may hide other files)`);
  return located;
}

/** Private signal that inflating went past the declared size. */
class OverflowSignal extends Error {}

/**
 * An entry's bytes, inflated step by step: never more than its declared size
 * (already checked against the limits) comes out, and its CRC must match.
 * @param keep false to check the entry without holding its bytes
 */
function inflateEntry(bytes: Uint8Array, located: LocatedEntry, keep: boolean): Uint8Array {
  const { entry } = located;
  const label = displayPath(entry.name);
  const raw = bytes.subarray(located.dataStart, located.dataEnd);
  const out = keep ? new Uint8Array(entry.size) : undefined;
  let produced = 0;
  let crc = 0;
  let finished = false;
  const take = (chunk: Uint8Array) => {
    if (produced + chunk.length > entry.size) throw new OverflowSignal();
    out?.set(chunk, produced);
    crc = crc32(chunk, crc);
    produced += chunk.length;
  };
  if (entry.method === 0) {
    take(raw);
    finished = true;
  } else {
    const inflater = new Inflate((chunk, final) => {
      take(chunk);
      if (final) finished = true;
    });
    try {
      for (let p = 0; p < raw.length; p += INFLATE_STEP) inflater.push(raw.subarray(p, p + INFLATE_STEP), p + INFLATE_STEP >= raw.length);
    } catch (e) {
      if (e instanceof OverflowSignal) {
        throw new UnsafeArchiveError(
          [
            {
              file: label,
              message: `inflates to more than the ${formatSize(entry.size)} the zip directory declares (a zip bomb, or a damaged zip): refused, pack the configuration again`,
            },
          ],
          { cause: e },
        );
      }
      throw corrupt(`${label} does not inflate`, e);
    }
  }
  if (!finished || produced !== entry.size || crc !== entry.crc) {
    throw new UnsafeArchiveError([{ file: label, message: 'is corrupt (its size or CRC does not match the zip directory): pack the configuration again' }]);
  }
  return out ?? new Uint8Array();
}
