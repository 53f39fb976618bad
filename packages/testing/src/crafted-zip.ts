/**
 * Hostile archives, byte by byte, as an attacker would write them: zips whose
 * local headers, central directory and end record say whatever a test wants,
 * and deflate / gzip bombs made in milliseconds without inflating anything.
 */
import { deflateRawSync } from 'node:zlib';

/** CRC-32 (IEEE) of `bytes`. */
export function crcOf(bytes: Uint8Array): number {
  let c = 0xffffffff;
  for (const b of bytes) {
    c ^= b;
    for (let k = 0; k < 8; k++) c = c & 1 ? 0xedb88320 ^ (c >>> 1) : c >>> 1;
  }
  return (c ^ 0xffffffff) >>> 0;
}

/** The header fields of one side (local or central) of an entry. */
export interface HeaderFields {
  readonly name?: string | Uint8Array;
  readonly flags?: number;
  readonly method?: number;
  readonly crc?: number;
  readonly compressedSize?: number;
  readonly size?: number;
  readonly extra?: Uint8Array;
}

/** One entry of a crafted zip; every field defaults to what an honest writer would put. */
export interface CraftedEntry extends HeaderFields {
  readonly name: string | Uint8Array;
  /** Content, stored (method 0) or deflated (method 8, the default). */
  readonly data?: Uint8Array | string;
  /** The compressed bytes as written, instead of compressing `data`. */
  readonly compressed?: Uint8Array;
  /** Unix mode (`0o100644`); stored with "made by" Unix. */
  readonly mode?: number;
  /** Fields of the local header that differ from the central directory's. */
  readonly local?: HeaderFields;
  /** Point the central entry at the local header of entry `n` (0-based) instead of writing one: overlapping entries. */
  readonly sharesLocalOf?: number;
  /** Bytes written after the entry's data (a data descriptor, or hidden data). */
  readonly after?: Uint8Array;
}

export interface CraftOptions {
  /** Entry count in the end record (16 bits; wraps like a writer without ZIP64). */
  readonly count?: number;
  /** Bytes between the last entry and the central directory. */
  readonly beforeDirectory?: Uint8Array;
  /** Bytes between the central directory and the end record. */
  readonly beforeEnd?: Uint8Array;
  /** Bytes after the end record (not counted in its comment length). */
  readonly trailing?: Uint8Array;
}

const toBytes = (v: Uint8Array | string) => (typeof v === 'string' ? new Uint8Array(Buffer.from(v)) : v);

/** A zip whose every header says what the entries say. */
export function craftZip(entries: readonly CraftedEntry[], options: CraftOptions = {}): Uint8Array {
  const parts: Buffer[] = [];
  const central: Buffer[] = [];
  const offsets: number[] = [];
  let at = 0;
  const push = (b: Buffer) => {
    parts.push(b);
    at += b.length;
  };
  for (const entry of entries) {
    const data = toBytes(entry.data ?? '');
    const method = entry.method ?? 8;
    const compressed = entry.compressed ?? (method === 8 ? new Uint8Array(deflateRawSync(data)) : data);
    const name = toBytes(entry.name);
    const c = {
      name,
      flags: entry.flags ?? 0x800,
      method,
      crc: entry.crc ?? crcOf(data),
      compressedSize: entry.compressedSize ?? compressed.length,
      size: entry.size ?? data.length,
      extra: entry.extra ?? new Uint8Array(),
    };
    let offset: number;
    if (entry.sharesLocalOf !== undefined) {
      offset = offsets[entry.sharesLocalOf];
    } else {
      offset = at;
      const l = { ...c, ...entry.local, name: toBytes(entry.local?.name ?? name) };
      const h = Buffer.alloc(30);
      h.writeUInt32LE(0x04034b50, 0);
      h.writeUInt16LE(20, 4);
      h.writeUInt16LE(l.flags, 6);
      h.writeUInt16LE(l.method, 8);
      h.writeUInt32LE(0x00210000, 10);
      h.writeUInt32LE(l.crc >>> 0, 14);
      h.writeUInt32LE(l.compressedSize >>> 0, 18);
      h.writeUInt32LE(l.size >>> 0, 22);
      h.writeUInt16LE(l.name.length, 26);
      h.writeUInt16LE(l.extra.length, 28);
      push(Buffer.concat([h, l.name, l.extra, compressed, entry.after ?? new Uint8Array()]));
    }
    offsets.push(offset);
    const h = Buffer.alloc(46);
    h.writeUInt32LE(0x02014b50, 0);
    h.writeUInt16LE(entry.mode === undefined ? 20 : (3 << 8) | 20, 4);
    h.writeUInt16LE(20, 6);
    h.writeUInt16LE(c.flags, 8);
    h.writeUInt16LE(c.method, 10);
    h.writeUInt32LE(0x00210000, 12);
    h.writeUInt32LE(c.crc >>> 0, 16);
    h.writeUInt32LE(c.compressedSize >>> 0, 20);
    h.writeUInt32LE(c.size >>> 0, 24);
    h.writeUInt16LE(name.length, 28);
    h.writeUInt16LE(c.extra.length, 30);
    h.writeUInt32LE(entry.mode === undefined ? 0 : (entry.mode << 16) >>> 0, 38);
    h.writeUInt32LE(offset, 42);
    central.push(Buffer.concat([h, name, c.extra]));
  }
  if (options.beforeDirectory) push(Buffer.from(options.beforeDirectory));
  const directoryOffset = at;
  const directory = Buffer.concat(central);
  push(directory);
  if (options.beforeEnd) push(Buffer.from(options.beforeEnd));
  const end = Buffer.alloc(22);
  end.writeUInt32LE(0x06054b50, 0);
  const count = (options.count ?? entries.length) & 0xffff;
  end.writeUInt16LE(count, 8);
  end.writeUInt16LE(count, 10);
  end.writeUInt32LE(directory.length, 12);
  end.writeUInt32LE(directoryOffset, 16);
  push(end);
  if (options.trailing) push(Buffer.from(options.trailing));
  return new Uint8Array(Buffer.concat(parts));
}

/** Writes deflate bits least significant first; Huffman codes go most significant bit first. */
class BitWriter {
  private readonly bytes: number[] = [];
  private bit = 0;
  write(value: number, count: number): void {
    for (let i = 0; i < count; i++) this.one((value >>> i) & 1);
  }
  code(code: number, length: number): void {
    for (let i = length - 1; i >= 0; i--) this.one((code >>> i) & 1);
  }
  get aligned(): boolean {
    return this.bit === 0;
  }
  done(): Uint8Array {
    return new Uint8Array(this.bytes);
  }
  private one(b: number): void {
    if (this.bit === 0) this.bytes.push(0);
    this.bytes[this.bytes.length - 1] |= b << this.bit;
    this.bit = (this.bit + 1) % 8;
  }
}

/** Matches per repeated block: 3 + 13n + 7 bits is a whole number of bytes for n ≡ 6 (mod 8). */
const MATCHES_PER_BLOCK = 8 * 1000 + 6;

function fixedBlock(literal: boolean, matches: number, final: boolean): Uint8Array {
  const w = new BitWriter();
  w.write(final ? 1 : 0, 1);
  w.write(1, 2); // fixed Huffman codes
  if (literal) w.code(0x30, 8); // literal 0
  for (let i = 0; i < matches; i++) {
    w.code(0xc5, 8); // length 258 (code 285)
    w.code(0, 5); // distance 1
  }
  w.code(0, 7); // end of block
  return w.done();
}

/** A raw deflate stream of about `size` zeros (at least one block's worth, ~2 MiB), built by repeating one block: ~160 times smaller. */
export function deflateBomb(size: number): { readonly compressed: Uint8Array; readonly size: number } {
  const first = fixedBlock(true, MATCHES_PER_BLOCK - 0, false);
  const block = fixedBlock(false, MATCHES_PER_BLOCK, false);
  const perBlock = MATCHES_PER_BLOCK * 258;
  const blocks = Math.max(0, Math.ceil((size - 1 - perBlock) / perBlock));
  const last = fixedBlock(false, 0, true);
  const out = new Uint8Array(first.length + blocks * block.length + last.length);
  out.set(first, 0);
  for (let i = 0; i < blocks; i++) out.set(block, first.length + i * block.length);
  out.set(last, first.length + blocks * block.length);
  return { compressed: out, size: 1 + perBlock * (blocks + 1) };
}

/** A gzip member of about `size` zeros (its trailer's CRC is not computed: a reader must stop long before it). */
export function gzipBomb(size: number): Uint8Array {
  const { compressed, size: real } = deflateBomb(size);
  const header = Buffer.from([0x1f, 0x8b, 8, 0, 0, 0, 0, 0, 0, 3]);
  const trailer = Buffer.alloc(8);
  trailer.writeUInt32LE(real >>> 0, 4);
  return new Uint8Array(Buffer.concat([header, compressed, trailer]));
}
