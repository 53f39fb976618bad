import { execFile } from 'node:child_process';
import { existsSync } from 'node:fs';
import { mkdir, rename, rm } from 'node:fs/promises';
import { join } from 'node:path';
import { promisify } from 'node:util';
import {
  INPUTS_ANNOTATION,
  SBOM_ARTIFACT_TYPE,
  assembleIndex,
  encodeInputRecord,
  listReferrers,
  promoteBuild,
  readArtifact,
  type CycloneDxBom,
} from '@devcontainer-factory/core';
import { ContainerEngine } from '../../src/local/container-engine';
import { findSbomGenerator, generateLocalSbom } from '../../src/local/local-sbom';
import { useLocalRegistry } from '@devcontainer-factory/testing';
import { firstRunDownload, hostArch, pushTestImage } from '@devcontainer-factory/testing';

/** This machine's architecture: the Debian root debootstrap makes here is of it. */
const ARCH = hostArch();

// The SBOM stage on real images: a Debian root made with debootstrap (a real dpkg
// database) and a busybox image (no package database), each built into staging,
// read by Trivy from cdxgen's plugins, stored as a referrer, promoted with the image.

jest.setTimeout(600_000);
const exec = promisify(execFile);
const local = useLocalRegistry();
const NOW = new Date('2026-12-02T09:00:00Z');
// Kept between runs: debootstrap takes about half a minute and needs Debian's mirror.
const DEBIAN_ROOT = join(__dirname, '../../../../node_modules/.cache/dcf-test-debian-bookworm');
const CONFIGURATION = `sha256:${'c'.repeat(64)}`;
const FEATURE = `localhost:5000/devcontainers/features/hello:1`;
const FEATURE_DIGEST = `sha256:${'f'.repeat(64)}`;
let engine: ContainerEngine;

beforeAll(async () => {
  engine = await ContainerEngine.create({ registryHost: local.host });
  if (!existsSync(join(DEBIAN_ROOT, 'var/lib/dpkg/status'))) {
    const partial = `${DEBIAN_ROOT}.partial`;
    await rm(partial, { recursive: true, force: true });
    await mkdir(join(DEBIAN_ROOT, '..'), { recursive: true });
    await firstRunDownload("the Debian root of the SBOM test (debootstrap's bookworm minbase)", "Debian's mirror http://deb.debian.org/debian", () =>
      exec('debootstrap', ['--variant=minbase', 'bookworm', partial, 'http://deb.debian.org/debian'], { timeout: 480_000, maxBuffer: 64 * 1024 * 1024 }),
    );
    await rename(partial, DEBIAN_ROOT);
  }
});

afterAll(async () => {
  await engine?.dispose();
});

/** Builds `<build>-<arch>` from the Debian root into staging and indexes it with one base and one feature recorded. */
async function debianBuild(staging: string, buildId: string) {
  const ref = `${local.host}/${staging}:${buildId}-${ARCH}`;
  const ctr = (await engine.buildah('from', 'scratch')).trim();
  try {
    await engine.buildah('copy', '--quiet', ctr, `${DEBIAN_ROOT}/`, '/');
    await engine.buildah('config', '--os', 'linux', '--arch', ARCH, ctr);
    await engine.buildah('commit', '--quiet', ctr, ref);
  } finally {
    await engine.buildah('rm', ctr).catch(() => undefined);
  }
  await engine.buildah('push', '--quiet', '--tls-verify=false', ref);
  const base = { kind: 'base' as const, reference: 'docker.io/library/debian:bookworm', digest: `sha256:${'b'.repeat(64)}` };
  await assembleIndex(local.registry, staging, buildId, [`linux/${ARCH}`], {
    [INPUTS_ANNOTATION]: encodeInputRecord({ configuration: CONFIGURATION, inputs: [base, { kind: 'feature', reference: FEATURE, digest: FEATURE_DIGEST }] })
      .text,
  });
}

async function sbomOf(repository: string, digest: string): Promise<CycloneDxBom> {
  const [referrer, ...more] = await listReferrers(local.registry, repository, digest, SBOM_ARTIFACT_TYPE);
  expect(more).toEqual([]);
  return JSON.parse((await readArtifact(local.registry, repository, referrer)).bytes.toString('utf8')) as CycloneDxBom;
}

test("GIVEN cdxgen's plugins installed THEN dcf finds its Trivy", () => {
  expect(findSbomGenerator()?.name).toMatch(/^trivy \(cdxgen plugins 2\.5\.1\)$/);
});

test('GIVEN an image of a debootstrap Debian root WHEN its SBOM is made THEN it lists the dpkg packages, the base and the feature with their digests, and promotion carries it', async () => {
  const staging = 'devcontainers/builds/debian';
  await debianBuild(staging, 'd1');
  const index = JSON.parse((await local.registry.getManifest(staging, 'd1'))!.body.toString('utf8')) as { manifests: { digest: string }[] };
  const image = index.manifests[0].digest;

  const result = await generateLocalSbom({
    registry: local.registry,
    engine,
    platform: `linux/${ARCH}`,
    repository: staging,
    buildId: 'd1',
    generator: findSbomGenerator()!,
    now: NOW,
  });

  expect(result.packages).toBeGreaterThan(80);
  expect([result.bases, result.features]).toEqual([1, 1]);
  const bom = await sbomOf(staging, image);
  expect(bom).toMatchObject({ bomFormat: 'CycloneDX', specVersion: '1.6' });
  expect(bom.metadata?.component).toMatchObject({ type: 'container', version: 'd1', hashes: [{ alg: 'SHA-256', content: image.slice(7) }] });
  const purls = (bom.components ?? []).map((c) => c.purl ?? '');
  for (const pkg of ['dpkg', 'bash', 'apt', 'base-files', 'libc6']) expect(purls.some((p) => p.startsWith(`pkg:deb/debian/${pkg}@`))).toBe(true);
  expect(bom.components?.find((c) => c.type === 'operating-system')).toMatchObject({ name: 'debian' });
  const feature = bom.components?.find((c) => c.properties?.some((p) => p.name === 'devcontainer-factory:input' && p.value === 'feature'));
  expect(feature).toMatchObject({ name: 'localhost:5000/devcontainers/features/hello', version: '1', hashes: [{ alg: 'SHA-256', content: 'f'.repeat(64) }] });
  const base = bom.components?.find((c) => c.properties?.some((p) => p.name === 'devcontainer-factory:input' && p.value === 'base'));
  expect(base).toMatchObject({ type: 'container', name: 'registry-1.docker.io/library/debian', version: 'bookworm' });

  // Release promotes the SBOM with the image.
  const promotion = await promoteBuild(local.registry, staging, 'devcontainers/images/debian', 'd1');
  expect(promotion.referrers).toBe(1);
  expect((await sbomOf('devcontainers/images/debian', image)).serialNumber).toBe(bom.serialNumber);
});

test('GIVEN a busybox image (no package database) WHEN its SBOM is made THEN it lists no packages but still the image and its inputs', async () => {
  const staging = 'devcontainers/builds/tiny';
  const pushed = await pushTestImage(local.host, staging, `t1-${ARCH}`, ARCH);
  await assembleIndex(local.registry, staging, 't1', [`linux/${ARCH}`], {
    [INPUTS_ANNOTATION]: encodeInputRecord({ configuration: CONFIGURATION, inputs: [{ kind: 'feature', reference: FEATURE, digest: FEATURE_DIGEST }] }).text,
  });

  const result = await generateLocalSbom({
    registry: local.registry,
    engine,
    platform: `linux/${ARCH}`,
    repository: staging,
    buildId: 't1',
    generator: findSbomGenerator()!,
    now: NOW,
  });

  expect([result.packages, result.bases, result.features]).toEqual([0, 0, 1]);
  const bom = await sbomOf(staging, pushed.digest);
  expect(bom.metadata?.component?.hashes).toEqual([{ alg: 'SHA-256', content: pushed.digest.slice(7) }]);
});
