/**
 * Reads a configuration zip into memory with the same safety rules as packing:
 * no absolute or `..` paths (zip-slip), no symlinks or special entries, no
 * duplicates, no more content than the size limit (checked on the declared
 * sizes before anything is inflated, and again on the real ones), CRCs checked.
 */
import { inflateSync } from 'fflate';
import type { ConfigProblem } from '../config/files';
import { DEFAULT_MAX_CONFIGURATION_SIZE, UnsafeArchiveError, formatSize, type ArchiveContent } from './archive-content';
import { crc32 } from './private/crc32';
import { displayPath, pathProblem } from './safe-path';

export interface ReadZipOptions {
  /**
   * Largest total uncompressed size, in bytes.
   * @default DEFAULT_MAX_CONFIGURATION_SIZE (50 MiB)
   */
  readonly maxSize?: number;
}

interface CentralEntry {
  readonly name: string;
  readonly flags: number;
  readonly method: number;
  readonly crc: number;
  readonly compressedSize: number;
  readonly size: number;
  readonly madeByOs: number;
  readonly externalAttributes: number;
  readonly localHeaderOffset: number;
}

const EOCD_SIGNATURE = 0x06054b50;
const CENTRAL_SIGNATURE = 0x02014b50;
const LOCAL_SIGNATURE = 0x04034b50;
const UNIX = 3;
const S_IFMT = 0o170000;
const S_IFREG = 0o100000;
const S_IFDIR = 0o040000;
const S_IFLNK = 0o120000;

/**
 * The files of a zip, keyed by their path inside it; directories are implied.
 * @throws UnsafeArchiveError listing every unsafe entry; nothing is returned half-read
 */
export function readZip(bytes: Uint8Array, options: ReadZipOptions = {}): ArchiveContent {
  const maxSize = options.maxSize ?? DEFAULT_MAX_CONFIGURATION_SIZE;
  const entries = centralDirectory(bytes);
  const problems: ConfigProblem[] = [];
  const seen = new Set<string>();
  const fileEntries: CentralEntry[] = [];
  let declared = 0;

  for (const entry of entries) {
    const isDir = entry.name.endsWith('/') || (entry.madeByOs === UNIX && ((entry.externalAttributes >>> 16) & S_IFMT) === S_IFDIR);
    const path = entry.name.endsWith('/') ? entry.name.slice(0, -1) : entry.name;
    const problem = pathProblem(path);
    if (problem) {
      problems.push({ file: displayPath(entry.name), message: `unsafe entry: ${problem}` });
      continue;
    }
    if (isDir) continue;
    const kind = entry.madeByOs === UNIX ? (entry.externalAttributes >>> 16) & S_IFMT : 0;
    if (kind === S_IFLNK) {
      problems.push({ file: path, message: 'is a symlink: zip only regular files (replace the link with a copy of what it points to)' });
      continue;
    }
    if (kind !== 0 && kind !== S_IFREG) {
      problems.push({ file: path, message: 'is a special file (not a regular file): remove it from the zip' });
      continue;
    }
    if (entry.flags & 1) {
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
    declared += entry.size;
    fileEntries.push(entry);
  }
  if (declared > maxSize) {
    problems.push({ file: '.', message: `the zip expands to ${formatSize(declared)}, over the limit of ${formatSize(maxSize)}: leave large files out` });
  }
  if (problems.length > 0) throw new UnsafeArchiveError(problems);

  const files = new Map<string, Uint8Array>();
  const executables = new Set<string>();
  for (const entry of fileEntries) {
    const data = entryData(bytes, entry);
    if (data.length !== entry.size || crc32(data) !== entry.crc) {
      throw new UnsafeArchiveError([{ file: entry.name, message: 'is corrupt (its size or CRC does not match the zip directory): pack the configuration again' }]);
    }
    files.set(entry.name, data);
    if (entry.madeByOs === UNIX && ((entry.externalAttributes >>> 16) & 0o111) !== 0) executables.add(entry.name);
  }
  return { files: new Map([...files.entries()].sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0))), executables };
}

function corrupt(message: string, cause?: unknown): UnsafeArchiveError {
  return new UnsafeArchiveError([{ file: '.', message: `not a readable zip: ${message}` }], { cause });
}

function centralDirectory(bytes: Uint8Array): CentralEntry[] {
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  // The end-of-central-directory record is 22 bytes plus a comment of up to 64 KiB.
  let eocd = -1;
  for (let i = bytes.length - 22; i >= Math.max(0, bytes.length - 22 - 0xffff); i--) {
    if (view.getUint32(i, true) === EOCD_SIGNATURE) {
      eocd = i;
      break;
    }
  }
  if (eocd < 0) throw corrupt('no end-of-central-directory record');
  const count = view.getUint16(eocd + 10, true);
  const size = view.getUint32(eocd + 12, true);
  const offset = view.getUint32(eocd + 16, true);
  if (count === 0xffff || size === 0xffffffff || offset === 0xffffffff) throw corrupt('ZIP64 archives are not supported (a configuration is far smaller)');
  if (offset + size > eocd) throw corrupt('the central directory lies outside the file');

  const decoder = new TextDecoder('utf-8', { fatal: false });
  const entries: CentralEntry[] = [];
  let p = offset;
  for (let i = 0; i < count; i++) {
    if (p + 46 > eocd || view.getUint32(p, true) !== CENTRAL_SIGNATURE) throw corrupt(`central directory entry ${i + 1} is damaged`);
    const nameLength = view.getUint16(p + 28, true);
    const extraLength = view.getUint16(p + 30, true);
    const commentLength = view.getUint16(p + 32, true);
    if (p + 46 + nameLength > eocd) throw corrupt(`central directory entry ${i + 1} is damaged`);
    entries.push({
      madeByOs: view.getUint8(p + 5),
      flags: view.getUint16(p + 8, true),
      method: view.getUint16(p + 10, true),
      crc: view.getUint32(p + 16, true),
      compressedSize: view.getUint32(p + 20, true),
      size: view.getUint32(p + 24, true),
      externalAttributes: view.getUint32(p + 38, true),
      localHeaderOffset: view.getUint32(p + 42, true),
      name: decoder.decode(bytes.subarray(p + 46, p + 46 + nameLength)),
    });
    p += 46 + nameLength + extraLength + commentLength;
  }
  return entries;
}

function entryData(bytes: Uint8Array, entry: CentralEntry): Uint8Array {
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const at = entry.localHeaderOffset;
  if (at + 30 > bytes.length || view.getUint32(at, true) !== LOCAL_SIGNATURE) throw corrupt(`the local header of ${entry.name} is missing`);
  const start = at + 30 + view.getUint16(at + 26, true) + view.getUint16(at + 28, true);
  const end = start + entry.compressedSize;
  if (end > bytes.length) throw corrupt(`the data of ${entry.name} runs past the end of the file`);
  const raw = bytes.subarray(start, end);
  if (entry.method === 0) return raw.slice();
  try {
    // Inflating into a buffer of the declared size bounds the memory a lying entry can take.
    const out = inflateSync(raw, { out: new Uint8Array(entry.size) });
    return out;
  } catch (e) {
    throw corrupt(`${entry.name} does not inflate`, e);
  }
}
