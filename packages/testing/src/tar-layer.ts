import { createHash } from 'node:crypto';
import { gzipSync } from 'node:zlib';

/** One entry of a layer: a directory, a regular file or a symbolic link. */
export type TarEntry =
  | { readonly type: 'dir'; readonly path: string; readonly mode?: number }
  | { readonly type: 'file'; readonly path: string; readonly content: Uint8Array | string; readonly mode?: number }
  | { readonly type: 'symlink'; readonly path: string; readonly target: string };

/** A gzip-compressed tar layer and the digests an image needs of it. */
export interface TarLayer {
  /** The `tar+gzip` bytes to push as a blob. */
  readonly bytes: Buffer;
  /** `sha256:…` of the uncompressed tar: the image config's `rootfs.diff_ids` entry. */
  readonly diffId: string;
}

function octal(value: number, width: number): string {
  return value.toString(8).padStart(width - 1, '0') + '\0';
}

function header(path: string, typeflag: string, size: number, mode: number, linkname = ''): Buffer {
  const h = Buffer.alloc(512);
  if (Buffer.byteLength(path) > 100) throw new Error(`tar path '${path}' is longer than 100 bytes`);
  h.write(path, 0, 100, 'utf8');
  h.write(octal(mode, 8), 100, 8, 'ascii');
  h.write(octal(0, 8), 108, 8, 'ascii'); // uid
  h.write(octal(0, 8), 116, 8, 'ascii'); // gid
  h.write(octal(size, 12), 124, 12, 'ascii');
  h.write(octal(0, 12), 136, 12, 'ascii'); // mtime: the epoch, so layers are reproducible
  h.write('        ', 148, 8, 'ascii'); // checksum placeholder
  h.write(typeflag, 156, 1, 'ascii');
  h.write(linkname, 157, 100, 'utf8');
  h.write('ustar\0', 257, 6, 'ascii');
  h.write('00', 263, 2, 'ascii');
  h.write('root', 265, 32, 'ascii');
  h.write('root', 297, 32, 'ascii');
  let sum = 0;
  for (const byte of h) sum += byte;
  h.write(octal(sum, 7) + ' ', 148, 8, 'ascii');
  return h;
}

/**
 * Writes a reproducible ustar archive (owner root, mtime 0) of `entries`, in order,
 * and gzips it: a real image layer that `tar`, buildah and podman read.
 */
export function tarLayer(entries: readonly TarEntry[]): TarLayer {
  const parts: Buffer[] = [];
  for (const entry of entries) {
    if (entry.type === 'dir') {
      parts.push(header(entry.path.endsWith('/') ? entry.path : `${entry.path}/`, '5', 0, entry.mode ?? 0o755));
    } else if (entry.type === 'symlink') {
      parts.push(header(entry.path, '2', 0, 0o777, entry.target));
    } else {
      const content = typeof entry.content === 'string' ? Buffer.from(entry.content) : Buffer.from(entry.content);
      parts.push(header(entry.path, '0', content.length, entry.mode ?? 0o644), content, Buffer.alloc((512 - (content.length % 512)) % 512));
    }
  }
  parts.push(Buffer.alloc(1024));
  const tar = Buffer.concat(parts);
  return { bytes: gzipSync(tar, { level: 6 }), diffId: `sha256:${createHash('sha256').update(tar).digest('hex')}` };
}
