import { execFile } from 'node:child_process';
import { promisify } from 'node:util';
import {
  MEDIA_TYPES,
  SBOM_ARTIFACT_TYPE,
  assembleIndex,
  attachArtifact,
  listReferrers,
  planRetention,
  applyRetention,
  promoteBuild,
  releaseImage,
  readArtifact,
  referrersTag,
} from '../../src';
import { useLocalRegistry } from '@devcontainer-factory/testing';
import { pushTestImage } from '@devcontainer-factory/testing';

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
  // A build id as Prepare makes them: 16 hex digits (retention knows build tags by that).
  const buildId = round.toString(16).padStart(16, 'b');
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
  await attachArtifact(local.registry, staging, subject, {
    artifactType: 'application/vnd.example.signature',
    mediaType: 'application/octet-stream',
    bytes: Buffer.from('sig'),
  });
  expect(await listReferrers(local.registry, staging, subject.digest, SBOM_ARTIFACT_TYPE)).toHaveLength(2);
  expect(await listReferrers(local.registry, staging, subject.digest)).toHaveLength(3);
});

test('GIVEN a staged build with an SBOM WHEN it is promoted THEN the release repository lists and serves the same SBOM', async () => {
  const { staging, release, buildId, subject } = await stagedBuild();
  const referrer = await attachArtifact(local.registry, staging, subject, {
    artifactType: SBOM_ARTIFACT_TYPE,
    mediaType: SBOM_ARTIFACT_TYPE,
    bytes: sbom('promoted'),
  });

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

test('GIVEN a released build with an SBOM THEN staging retention deletes the build with its fallback tag, and release retention keeps it while the image is kept', async () => {
  const { staging, release, buildId, subject } = await stagedBuild();
  await attachArtifact(local.registry, staging, subject, { artifactType: SBOM_ARTIFACT_TYPE, mediaType: SBOM_ARTIFACT_TYPE, bytes: sbom('kept') });
  await releaseImage(local.registry, release, { buildId, staging, version: '1.0.0', rules: { latest: true, semver: true, date: false }, now: new Date() });

  const releasePlan = await planRetention(local.registry, release, { kind: 'release', now: new Date() });
  expect(releasePlan.delete).toEqual([]);
  expect(releasePlan.keep.find((e) => e.tags.includes(referrersTag(subject.digest)))?.reason).toMatch(
    /^artifacts \(SBOM, configuration\) of kept image sha256:/,
  );

  const stagingResult = await applyRetention(local.registry, staging, { kind: 'staging', releaseRepository: release, now: new Date() });
  expect(stagingResult.deleted.flatMap((e) => e.tags).sort()).toEqual([buildId, `${buildId}-amd64`, referrersTag(subject.digest)].sort());
  expect(await local.registry.listTags(staging)).toEqual([]);
  // The release repository still lists and serves the SBOM.
  expect(await listReferrers(local.registry, release, subject.digest, SBOM_ARTIFACT_TYPE)).toHaveLength(1);
});

test('GIVEN a build whose date tag is beyond the kept ones THEN release retention deletes it and its fallback tag, and keeps the newer build with its own', async () => {
  const { staging, release, buildId, subject } = await stagedBuild();
  await attachArtifact(local.registry, staging, subject, { artifactType: SBOM_ARTIFACT_TYPE, mediaType: SBOM_ARTIFACT_TYPE, bytes: sbom('old') });
  await releaseImage(local.registry, release, { buildId, staging, rules: { latest: false, semver: false, date: true }, now: new Date('2026-01-01T00:00:00Z') });
  // A newer build of the same image, with its own SBOM, takes the newer date tag.
  const newerId = 'c'.repeat(16);
  const newer = await pushTestImage(local.host, staging, `${newerId}-amd64`, 'amd64', { content: 'newer build' });
  await assembleIndex(local.registry, staging, newerId, ['linux/amd64']);
  const newerSubject = {
    mediaType: MEDIA_TYPES.ociManifest,
    digest: newer.digest,
    size: (await local.registry.getManifest(staging, newer.digest))!.body.length,
  };
  await attachArtifact(local.registry, staging, newerSubject, { artifactType: SBOM_ARTIFACT_TYPE, mediaType: SBOM_ARTIFACT_TYPE, bytes: sbom('newer') });
  await releaseImage(local.registry, release, {
    buildId: newerId,
    staging,
    rules: { latest: false, semver: false, date: true },
    now: new Date('2026-02-01T00:00:00Z'),
  });

  const result = await applyRetention(local.registry, release, { kind: 'release', keepDateTags: 1, now: new Date() });

  const deleted = result.deleted.flatMap((e) => e.tags);
  expect(deleted).toEqual(expect.arrayContaining(['20260101', referrersTag(subject.digest)]));
  expect(deleted).not.toContain(referrersTag(newer.digest));
  expect(await listReferrers(local.registry, release, subject.digest)).toEqual([]);
  expect(await listReferrers(local.registry, release, newer.digest, SBOM_ARTIFACT_TYPE)).toHaveLength(1);
});
