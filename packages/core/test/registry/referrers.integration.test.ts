import { execFile } from 'node:child_process';
import { promisify } from 'node:util';
import {
  MEDIA_TYPES,
  SBOM_ARTIFACT_TYPE,
  assembleIndex,
  attachArtifact,
  listReferrers,
  promoteBuild,
  readArtifact,
  referrersTag,
} from '../../src';
import { useLocalRegistry } from '../support/use-local-registry';
import { pushTestImage } from '../support/test-image';

// SBOMs as OCI 1.1 referrers on the CNCF distribution registry, which has no referrers
// API: the artifact manifest names the image as its subject, and the fallback tag
// sha256-<hex> lists it. Promotion brings both into the release repository.

jest.setTimeout(60_000);
const exec = promisify(execFile);
const local = useLocalRegistry();
let round = 0;
const sbom = (name: string) => Buffer.from(JSON.stringify({ bomFormat: 'CycloneDX', specVersion: '1.6', components: [{ type: 'library', name }] }));

async function stagedBuild() {
  round++;
  const staging = `devcontainers/builds/sbom${round}`;
  const release = `devcontainers/images/sbom${round}`;
  const buildId = `s${round}`;
  const amd64 = await pushTestImage(local.host, staging, `${buildId}-amd64`, 'amd64');
  await assembleIndex(local.registry, staging, buildId, ['linux/amd64']);
  const subject = { mediaType: MEDIA_TYPES.ociManifest, digest: amd64.digest, size: (await local.registry.getManifest(staging, amd64.digest))!.body.length };
  return { staging, release, buildId, subject };
}

test('GIVEN an SBOM attached to a per-arch image THEN the fallback tag lists it and it reads back byte for byte, also for skopeo', async () => {
  const { staging, subject } = await stagedBuild();
  const referrer = await attachArtifact(local.registry, staging, subject, {
    artifactType: SBOM_ARTIFACT_TYPE,
    mediaType: SBOM_ARTIFACT_TYPE,
    bytes: sbom('busybox'),
    annotations: { 'org.opencontainers.image.created': '2026-12-02T09:00:00Z' },
  });

  const listed = await listReferrers(local.registry, staging, subject.digest, SBOM_ARTIFACT_TYPE);
  expect(listed.map((r) => r.digest)).toEqual([referrer.digest]);
  expect(listed[0].annotations).toEqual({ 'org.opencontainers.image.created': '2026-12-02T09:00:00Z' });
  expect((await readArtifact(local.registry, staging, referrer)).bytes).toEqual(sbom('busybox'));
  // The artifact manifest names the image as its subject, as an independent client sees it.
  const { stdout } = await exec('skopeo', ['inspect', '--tls-verify=false', '--raw', `docker://${local.host}/${staging}@${referrer.digest}`]);
  expect(JSON.parse(stdout)).toMatchObject({ artifactType: SBOM_ARTIFACT_TYPE, subject: { digest: subject.digest } });
  expect(await local.registry.listTags(staging)).toContain(referrersTag(subject.digest));
});

test('GIVEN a second SBOM for the same image THEN both are listed, and another artifact type is filtered out', async () => {
  const { staging, subject } = await stagedBuild();
  await attachArtifact(local.registry, staging, subject, { artifactType: SBOM_ARTIFACT_TYPE, mediaType: SBOM_ARTIFACT_TYPE, bytes: sbom('one') });
  await attachArtifact(local.registry, staging, subject, { artifactType: SBOM_ARTIFACT_TYPE, mediaType: SBOM_ARTIFACT_TYPE, bytes: sbom('two') });
  await attachArtifact(local.registry, staging, subject, { artifactType: 'application/vnd.example.signature', mediaType: 'application/octet-stream', bytes: Buffer.from('sig') });
  expect(await listReferrers(local.registry, staging, subject.digest, SBOM_ARTIFACT_TYPE)).toHaveLength(2);
  expect(await listReferrers(local.registry, staging, subject.digest)).toHaveLength(3);
});

test('GIVEN a staged build with an SBOM WHEN it is promoted THEN the release repository lists and serves the same SBOM', async () => {
  const { staging, release, buildId, subject } = await stagedBuild();
  const referrer = await attachArtifact(local.registry, staging, subject, { artifactType: SBOM_ARTIFACT_TYPE, mediaType: SBOM_ARTIFACT_TYPE, bytes: sbom('promoted') });

  const result = await promoteBuild(local.registry, staging, release, buildId);

  expect(result.referrers).toBe(1);
  const listed = await listReferrers(local.registry, release, subject.digest, SBOM_ARTIFACT_TYPE);
  expect(listed.map((r) => r.digest)).toEqual([referrer.digest]);
  expect((await readArtifact(local.registry, release, listed[0])).bytes).toEqual(sbom('promoted'));
});

test('GIVEN an image without artifacts THEN it lists none and promotion copies none', async () => {
  const { staging, release, buildId, subject } = await stagedBuild();
  expect(await listReferrers(local.registry, staging, subject.digest)).toEqual([]);
  expect((await promoteBuild(local.registry, staging, release, buildId)).referrers).toBe(0);
});
