/**
 * What the image pipeline's CodeBuild projects do to the registry, done with the project
 * role's own registry login through the gateway, so that each push and pull meets the
 * project role's policies and the repository's. The buildspecs themselves are tested
 * command by command elsewhere (image-pipeline's buildspecs test); CodeBuild's images,
 * BuildKit and the devcontainer CLI cannot run here, so the rehearsal stands in for them:
 *
 * - Build (`devcontainer build --push`): one single-platform image per architecture,
 *   `<build>-<arch>` in staging, whose layer holds the build id and the configuration's
 *   digest and whose config carries the `devcontainer.metadata` label.
 * - Test (`docker pull` of `<build>` and its checks): the index and the platform's image
 *   are pulled and checked as the Test buildspec checks them (platform, label).
 */
import { createHash } from 'node:crypto';
import { gzipSync } from 'node:zlib';
import { OciRegistry, parseManifest } from '@devcontainer-factory/core';
import type { CodeBuildWork, RehearsalProject } from './action-executors';
import { ActionFailedError } from './pipeline-engine';

/** One file in a tar stream (ustar). */
function tarFile(name: string, content: Buffer): Buffer {
  const header = Buffer.alloc(512);
  header.write(name, 0, 100, 'utf8');
  header.write('0000644\0', 100);
  header.write('0000000\0', 108);
  header.write('0000000\0', 116);
  header.write(`${content.length.toString(8).padStart(11, '0')}\0`, 124);
  header.write('00000000000\0', 136);
  header.write('        ', 148);
  header.write('0', 156);
  header.write('ustar\0', 257);
  header.write('00', 263);
  let sum = 0;
  for (const byte of header) sum += byte;
  header.write(`${sum.toString(8).padStart(6, '0')}\0 `, 148);
  const pad = Buffer.alloc((512 - (content.length % 512)) % 512);
  return Buffer.concat([header, content, pad, Buffer.alloc(1024)]);
}

/** The registry as the project role reaches it: the gateway's host, with the role's login. */
async function registryOf(run: Parameters<CodeBuildWork>[0], gatewayHost: string): Promise<OciRegistry> {
  const login = await run.aws.registryLogin();
  return new OciRegistry({ host: gatewayHost, username: login.username, password: login.password });
}

const need = (env: Readonly<Record<string, string>>, name: string): string => {
  const value = env[name];
  if (!value || /^#\{/.test(value)) throw new ActionFailedError(`${name} is not set (${value ?? 'missing'}): start this project from its pipeline`);
  return value;
};

/** Build: pushes `<build>-<arch>` to the project's repository. */
export function imageBuildWork(gatewayHost: string, now: () => Date): CodeBuildWork {
  return async (run) => {
    const repository = need(run.environment, 'REPOSITORY');
    const buildId = need(run.environment, 'BUILD_ID');
    const arch = need(run.environment, 'ARCH');
    if (!/^[0-9a-f]{16}$/.test(buildId)) throw new ActionFailedError(`BUILD_ID must be the 16 hex digits of #{Prepare.BuildId}, got '${buildId}'`);
    const configuration = `sha256:${createHash('sha256').update(run.source).digest('hex')}`;
    const layer = gzipSync(tarFile('etc/devcontainer-factory-build', Buffer.from(`${buildId} ${configuration} ${arch}\n`)));
    const registry = await registryOf(run, gatewayHost);
    const pushed = await registry.pushImage(repository, `${buildId}-${arch}`, {
      config: {
        architecture: arch,
        os: 'linux',
        ...(arch === 'arm64' && { variant: 'v8' }),
        created: now().toISOString(),
        config: { Labels: { 'devcontainer.metadata': JSON.stringify([{ id: 'rehearsal' }]) } },
        rootfs: { type: 'layers', diff_ids: [] },
      },
      layers: [{ bytes: layer }],
    });
    return `pushed ${repository}:${buildId}-${arch} (${pushed.digest})`;
  };
}

/** Test: pulls `<build>` and the platform's image, and checks platform and label. */
export function imageTestWork(gatewayHost: string): CodeBuildWork {
  return async (run) => {
    const repository = need(run.environment, 'REPOSITORY');
    const buildId = need(run.environment, 'BUILD_ID');
    const platform = need(run.environment, 'PLATFORM');
    const registry = await registryOf(run, gatewayHost);
    const index = await registry.getManifest(repository, buildId);
    if (!index) throw new ActionFailedError(`${repository}:${buildId} does not exist: docker pull failed`);
    const parsed = parseManifest(index, `${repository}:${buildId}`);
    const [os, architecture] = platform.split('/');
    const entry = parsed.kind === 'index' ? parsed.index.manifests.find((m) => m.platform?.os === os && m.platform?.architecture === architecture) : undefined;
    if (!entry) throw new ActionFailedError(`${repository}:${buildId} has no ${platform} image: the index points at the wrong manifests`);
    const image = await registry.getManifest(repository, entry.digest);
    const manifest = image && parseManifest(image, entry.digest);
    if (manifest?.kind !== 'image') throw new ActionFailedError(`${repository}@${entry.digest} is not an image manifest`);
    const config = JSON.parse((await registry.getBlob(repository, manifest.manifest.config.digest)).toString('utf8')) as { architecture?: string; config?: { Labels?: Record<string, string> } };
    if (config.architecture !== architecture) throw new ActionFailedError(`${repository}@${entry.digest} is a ${config.architecture} image where ${platform} was expected`);
    if (!config.config?.Labels?.['devcontainer.metadata']) throw new ActionFailedError(`${repository}@${entry.digest} has no devcontainer.metadata label`);
    return `${platform}: platform and label checks passed on ${repository}@${entry.digest}`;
  };
}

/** The work of a project, by what its buildspec does. */
export function workOf(project: RehearsalProject, gatewayHost: string, now: () => Date): CodeBuildWork {
  if (project.buildSpec.includes('devcontainer build')) return imageBuildWork(gatewayHost, now);
  if (project.buildSpec.includes("Check platform")) return imageTestWork(gatewayHost);
  return async () => {
    throw new ActionFailedError(`the rehearsal does not model what project ${project.name} does yet`);
  };
}
