/**
 * Tar archives written header by header, for tests of hostile feature tarballs:
 * any type flag, any size field, pax records that disagree with the header.
 */

/** One record of a crafted tar: a header (with its type flag) and its data. */
export interface CraftedTarEntry {
  readonly path: string;
  /** `0` file, `5` directory, `2` symlink, `x` pax header, … */
  readonly type?: string;
  readonly data?: Uint8Array | string;
  /** The size field, when it should not be the data's length. */
  readonly size?: number;
  readonly mode?: number;
}

function header(entry: CraftedTarEntry, size: number): Buffer {
  const h = Buffer.alloc(512);
  h.write(entry.path, 0, 100, 'utf8');
  h.write(`${(entry.mode ?? 0o644).toString(8).padStart(7, '0')}\0`, 100, 8, 'ascii');
  h.write('0000000\0', 108, 8, 'ascii');
  h.write('0000000\0', 116, 8, 'ascii');
  h.write(`${size.toString(8).padStart(11, '0')}\0`, 124, 12, 'ascii');
  h.write('00000000000\0', 136, 12, 'ascii');
  h.write('        ', 148, 8, 'ascii');
  h.write(entry.type ?? '0', 156, 1, 'ascii');
  h.write('ustar\0', 257, 6, 'ascii');
  h.write('00', 263, 2, 'ascii');
  let sum = 0;
  for (const byte of h) sum += byte;
  h.write(`${sum.toString(8).padStart(6, '0')}\0 `, 148, 8, 'ascii');
  return h;
}

/** A pax record, `<length> <key>=<value>\n`, its length counting itself. */
export function paxRecord(key: string, value: string): string {
  const body = ` ${key}=${value}\n`;
  let length = body.length + 1;
  while (`${length}${body}`.length !== length) length++;
  return `${length}${body}`;
}

/** The tar (not gzipped) of `entries`, in order, with its end blocks. */
export function craftTar(entries: readonly CraftedTarEntry[]): Uint8Array {
  const parts: Buffer[] = [];
  for (const entry of entries) {
    const data = Buffer.from(entry.data ?? '');
    parts.push(header(entry, entry.size ?? data.length), data, Buffer.alloc((512 - (data.length % 512)) % 512));
  }
  parts.push(Buffer.alloc(1024));
  return new Uint8Array(Buffer.concat(parts));
}
