/**
 * The offline stand-in for a public base image:
 * `<registry>/<ns>/ecr-public/docker/library/busybox:latest`, Debian's statically linked
 * busybox (package busybox-static) on an empty image, with its applets linked into /bin.
 * Images of a local catalogue build `FROM` it, because no public registry is reachable
 * from a machine without network. In the cloud the same reference is served by the
 * factory's ECR Public pull-through cache (`<ns>/ecr-public/` → `public.ecr.aws`), so a
 * configuration written against it deploys unchanged.
 */
import { existsSync } from 'node:fs';
import type { Registry } from '@devcontainer-factory/core';
import { EngineCommandError, type ContainerEngine } from './container-engine';

/** Where Debian's busybox-static package installs busybox. */
export const BUSYBOX_BINARY = '/bin/busybox';

/** Repository of the upstream image of namespace `ns`: where the cloud's pull-through cache serves `public.ecr.aws/docker/library/busybox`. */
export const upstreamRepository = (namespace: string) => `${namespace}/ecr-public/docker/library/busybox`;

export interface UpstreamImage {
  /** `localhost:<port>/<ns>/ecr-public/docker/library/busybox:latest` */
  readonly reference: string;
  /** True when this run pushed it; false when the registry had it already. */
  readonly created: boolean;
}

/**
 * Pushes the upstream image unless the registry has it already.
 * @param busybox a statically linked busybox for the host's architecture
 */
export async function ensureUpstreamImage(
  engine: ContainerEngine,
  registry: Registry,
  namespace: string,
  busybox: string = BUSYBOX_BINARY,
): Promise<UpstreamImage> {
  const repository = upstreamRepository(namespace);
  const reference = `${registry.host}/${repository}:latest`;
  if (await registry.getManifest(repository, 'latest')) return { reference, created: false };
  if (!existsSync(busybox)) {
    throw new EngineCommandError(
      `${busybox} is missing: the offline upstream image is made from Debian's busybox-static (apt-get install -y busybox-static)`,
      null,
      '',
    );
  }
  const container = (await engine.buildah('from', '--quiet', 'scratch')).trim();
  try {
    await engine.buildah('copy', '--quiet', '--chmod', '0755', container, busybox, '/bin/busybox');
    await engine.buildah('run', '--isolation', 'chroot', container, '--', '/bin/busybox', '--install', '-s', '/bin');
    await engine.buildah('run', '--isolation', 'chroot', container, '--', '/bin/busybox', 'mkdir', '-p', '/tmp', '/root', '/usr/local/bin', '/etc');
    await engine.buildah(
      'run',
      '--isolation',
      'chroot',
      container,
      '--',
      '/bin/sh',
      '-c',
      'echo "root:x:0:0:root:/root:/bin/sh" > /etc/passwd && echo "root:x:0:" > /etc/group',
    );
    await engine.buildah('config', '--cmd', '/bin/sh', '--env', 'PATH=/usr/local/bin:/usr/bin:/bin', container);
    await engine.buildah('commit', '--quiet', '--format', 'oci', container, reference);
    await engine.buildah('push', '--quiet', '--tls-verify=false', reference, `docker://${reference}`);
  } finally {
    await engine.buildah('rm', container).catch(() => undefined);
  }
  return { reference, created: true };
}
