/**
 * A small reader of (optionally gzipped) tar archives: enough for the feature
 * layers the devcontainer CLI writes (ustar, with pax or GNU long names).
 *
 * Memory is bounded whatever the input: gunzip stops as soon as its output
 * passes the archive's budget (zlib's `maxOutputLength`, checked while
 * inflating), and the entry count, entry sizes and total size are held to the
 * same {@link ArchiveLimits} as a zip.
 */
import { gunzipSync } from 'node:zlib';
import { formatSize } from '../../archive/archive-content';
import { COMPRESSION_RATIO_FLOOR, resolveArchiveLimits, type ArchiveLimits, type ResolvedArchiveLimits } from '../../archive/archive-limits';
import { FactoryError } from '../../factory-error';

export interface TarEntry {
  /** The path as stored, e.g. `./install.sh`. */
  readonly path: string;
  /** `file`, `directory`, `symlink` or `other`. */
  readonly type: 'file' | 'directory' | 'symlink' | 'other';
  /** Permission bits, e.g. 0o755. */
  readonly mode: number;
  readonly data: Uint8Array;
  /** Target of a symlink. */
  readonly linkName?: string;
}

/** Thrown for bytes that are not a tar archive this reader understands. */
export class TarFormatError extends FactoryError {}

const BLOCK = 512;

function text(bytes: Uint8Array, start: number, length: number): string {
  const slice = bytes.subarray(start, start + length);
  const end = slice.indexOf(0);
  return Buffer.from(end >= 0 ? slice.subarray(0, end) : slice).toString('utf8');
}

function octal(bytes: Uint8Array, start: number, length: number, what: string): number {
  // GNU base-256 for large numbers: high bit of the first byte set.
  if (bytes[start] & 0x80) {
    let value = 0;
    for (let i = start + 1; i < start + length; i++) value = value * 256 + bytes[i];
    return value;
  }
  const raw = text(bytes, start, length).trim();
  if (raw === '') return 0;
  if (!/^[0-7]+$/.test(raw)) throw new TarFormatError(`the tar header's ${what} field '${raw}' is not an octal number`);
  return parseInt(raw, 8);
}

/** The records of a pax extended header (`path`, `linkpath`, …): `<length> <key>=<value>\n`, lengths in bytes. */
function paxRecords(data: Uint8Array): Record<string, string> {
  const records: Record<string, string> = {};
  const buffer = Buffer.from(data);
  let i = 0;
  while (i < buffer.length) {
    const space = buffer.indexOf(0x20, i);
    if (space < 0) break;
    const length = Number(buffer.subarray(i, space).toString('ascii'));
    if (!Number.isInteger(length) || length <= space - i) throw new TarFormatError('a pax header record has no valid length');
    const record = buffer
      .subarray(space + 1, i + length)
      .toString('utf8')
      .replace(/\n$/, '');
    const eq = record.indexOf('=');
    if (eq > 0) records[record.slice(0, eq)] = record.slice(eq + 1);
    i += length;
  }
  return records;
}

function isGzip(bytes: Uint8Array): boolean {
  return bytes.length >= 2 && bytes[0] === 0x1f && bytes[1] === 0x8b;
}

/** Bytes a tar may take beyond its files' content: a header and padding per entry, and the end blocks. */
function tarBudget(limits: ResolvedArchiveLimits): number {
  return limits.maxSize + 2 * BLOCK * (limits.maxEntries + 1);
}

/** The tar inside gzipped bytes, gunzipped no further than the limits allow. */
function gunzipBounded(input: Uint8Array, limits: ResolvedArchiveLimits): Uint8Array {
  const budget = tarBudget(limits);
  const ratioBound = Math.max(COMPRESSION_RATIO_FLOOR, limits.maxCompressionRatio * input.length);
  try {
    return gunzipSync(input, { maxOutputLength: Math.min(budget, ratioBound) });
  } catch (cause) {
    if ((cause as { code?: string }).code === 'ERR_BUFFER_TOO_LARGE') {
      throw new TarFormatError(
        ratioBound < budget
          ? `the archive expands more than ${limits.maxCompressionRatio} times its ${formatSize(input.length)} (maxCompressionRatio): this looks like a gzip bomb; leave filler files out`
          : `the archive expands past ${formatSize(budget)}, over the limit of ${formatSize(limits.maxSize)} of content (maxSize): leave large files out`,
        { cause },
      );
    }
    throw new TarFormatError('the archive looks gzipped but does not decompress', { cause });
  }
}

/**
 * The entries of a tar archive, gunzipped first when the bytes are gzip.
 * @param limits entry count, sizes and compression ratio (defaults as for a zip)
 * @throws TarFormatError for bytes that are not a tar, or go past a limit
 */
export function readTar(input: Uint8Array, limits: ArchiveLimits = {}): TarEntry[] {
  const resolved = resolveArchiveLimits(limits);
  const bytes = isGzip(input) ? gunzipBounded(input, resolved) : input;
  if (bytes.length > tarBudget(resolved)) {
    throw new TarFormatError(
      `the archive is ${formatSize(bytes.length)}, over the limit of ${formatSize(resolved.maxSize)} of content (maxSize): leave large files out`,
    );
  }
  let total = 0;
  const entries: TarEntry[] = [];
  let offset = 0;
  let longName: string | undefined;
  let longLink: string | undefined;
  let pax: Record<string, string> = {};
  let ended = false;
  while (offset + BLOCK <= bytes.length) {
    const header = bytes.subarray(offset, offset + BLOCK);
    if (header.every((b) => b === 0)) {
      ended = true;
      break;
    }
    let sum = 0;
    for (let i = 0; i < BLOCK; i++) sum += i >= 148 && i < 156 ? 32 : header[i];
    if (!/^[0-7]+$/.test(text(header, 148, 8).trim()) || sum !== octal(header, 148, 8, 'checksum')) {
      throw new TarFormatError(`the tar header at byte ${offset} has a wrong checksum: not a tar archive, or a damaged one`);
    }
    const size = octal(header, 124, 12, 'size');
    const typeflag = String.fromCharCode(header[156] || 48);
    if (pax.size !== undefined && Number(pax.size) !== size) {
      // tar uses the pax size, this reader the header's: they would see different entries.
      throw new TarFormatError(
        `the tar entry at byte ${offset} has a pax size (${pax.size}) that differs from its header's (${size}): refused, pack the feature again`,
      );
    }
    if (size > resolved.maxEntrySize) {
      throw new TarFormatError(
        `the tar entry at byte ${offset} is ${formatSize(size)}, over the limit of ${formatSize(resolved.maxEntrySize)} per file (maxEntrySize): leave large files out`,
      );
    }
    const dataStart = offset + BLOCK;
    if (dataStart + size > bytes.length) throw new TarFormatError(`the tar entry at byte ${offset} is cut short`);
    const data = bytes.subarray(dataStart, dataStart + size);
    offset = dataStart + Math.ceil(size / BLOCK) * BLOCK;
    if (typeflag === 'x') {
      pax = paxRecords(data);
      continue;
    }
    if (typeflag === 'g') continue;
    if (typeflag === 'L') {
      longName = text(data, 0, data.length);
      continue;
    }
    if (typeflag === 'K') {
      longLink = text(data, 0, data.length);
      continue;
    }
    const magic = text(header, 257, 6);
    const prefix = magic.startsWith('ustar') ? text(header, 345, 155) : '';
    const name = text(header, 0, 100);
    const path = pax.path ?? longName ?? (prefix ? `${prefix}/${name}` : name);
    const linkName = pax.linkpath ?? longLink ?? text(header, 157, 100);
    const type = typeflag === '0' || typeflag === '7' ? 'file' : typeflag === '5' ? 'directory' : typeflag === '2' ? 'symlink' : 'other';
    if (entries.length >= resolved.maxEntries) {
      throw new TarFormatError(
        `the archive holds more than ${resolved.maxEntries} entries, over the limit (maxEntries): leave generated files and dependencies out`,
      );
    }
    total += type === 'file' ? size : 0;
    if (total > resolved.maxSize)
      throw new TarFormatError(`the archive's files add up to more than ${formatSize(resolved.maxSize)} (maxSize): leave large files out`);
    entries.push({
      path,
      type,
      mode: octal(header, 100, 8, 'mode') & 0o7777,
      data: type === 'file' ? data : new Uint8Array(),
      ...(type === 'symlink' ? { linkName } : {}),
    });
    pax = {};
    longName = undefined;
    longLink = undefined;
  }
  if (!ended) throw new TarFormatError(`the tar archive is cut short: it ends at byte ${bytes.length} without its end-of-archive blocks`);
  return entries;
}
