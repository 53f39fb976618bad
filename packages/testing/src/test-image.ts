import { readFileSync } from 'node:fs';
import { OciRegistry, PushedImage } from '@devcontainer-factory/core';
import { TarEntry, tarLayer } from './tar-layer';

/** Where busybox-static puts its binary. */
export const BUSYBOX_BINARY = '/bin/busybox';

export interface TestImageOptions {
  /**
   * Text of `/etc/dcf-test-image`; images with different text have different digests.
   * @default - `<repository>:<tag> <arch>`
   */
  readonly content?: string;
  /**
   * Add the host's static busybox as `/bin/busybox` with `/bin/sh` linked to it,
   * so that the image runs (only when `arch` is the host's architecture).
   * @default false
   */
  readonly busybox?: boolean;
  /**
   * Make the config claim another architecture than the one named by `arch` (to test checks of wrong-platform images).
   * @default - the same as `arch`
   */
  readonly configArch?: 'amd64' | 'arm64';
}

/** The architecture name Go (and image configs) use for the host. */
export function hostArch(): 'amd64' | 'arm64' {
  if (process.arch === 'x64') return 'amd64';
  if (process.arch === 'arm64') return 'arm64';
  throw new Error(`unsupported host architecture ${process.arch}`);
}

/**
 * Pushes a small but real single-platform OCI image to the registry at `host`: one
 * reproducible tar+gzip layer holding `/etc/dcf-test-image` (and busybox when asked),
 * and an image config with `os: linux` and the architecture (`variant: v8` for
 * arm64). The same arguments give the same digest.
 */
export async function pushTestImage(
  host: string,
  repository: string,
  tag: string,
  arch: 'amd64' | 'arm64',
  options: TestImageOptions = {},
): Promise<PushedImage> {
  const entries: TarEntry[] = [
    { type: 'dir', path: 'etc' },
    { type: 'file', path: 'etc/dcf-test-image', content: `${options.content ?? `${repository}:${tag} ${arch}`}\n` },
  ];
  if (options.busybox) {
    if (arch !== hostArch()) throw new Error(`busybox: the host's busybox is ${hostArch()}, it cannot go into a ${arch} image`);
    entries.push(
      { type: 'dir', path: 'bin' },
      { type: 'file', path: 'bin/busybox', content: readFileSync(BUSYBOX_BINARY), mode: 0o755 },
      { type: 'symlink', path: 'bin/sh', target: 'busybox' },
    );
  }
  const layer = tarLayer(entries);
  const configArch = options.configArch ?? arch;
  const config = {
    architecture: configArch,
    os: 'linux',
    ...(configArch === 'arm64' ? { variant: 'v8' } : {}),
    config: { Env: ['PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin'], Cmd: ['/bin/sh'] },
    rootfs: { type: 'layers', diff_ids: [layer.diffId] },
    history: [{ created_by: 'devcontainer-factory test image' }],
  };
  return new OciRegistry({ host }).pushImage(repository, tag, { config, layers: [{ bytes: layer.bytes }] });
}
