import { execFile } from 'node:child_process';
import { createHash } from 'node:crypto';
import { promisify } from 'node:util';
import {
  CONFIGURATION_ARTIFACT_TYPE,
  INPUTS_ANNOTATION,
  ImageConfigurationError,
  ManifestConfigurationError,
  MAX_BUILD_INPUTS,
  applyRetention,
  encodeInputRecord,
  indexInputRecord,
  assembleIndex,
  listReferrers,
  manifestImage,
  planRetention,
  promoteBuild,
  readImageConfiguration,
  referrersTag,
  releaseImage,
  storeImageConfiguration,
  type InputRecord,
  type OciRegistry,
} from '../../src';
import { useLocalRegistry } from '@devcontainer-factory/testing';
import { pushTestImage } from '@devcontainer-factory/testing';

// The configuration zip a build was made from, kept beside its image index as an OCI
// referrer, on the CNCF distribution registry (no referrers API: the fallback tag
// sha256-<hex> of the index lists it): Manifest stores it, promotion carries it, retention
// keeps or deletes it with its index.

jest.setTimeout(60_000);
const exec = promisify(execFile);
const local = useLocalRegistry();
let round = 0;
const sha256 = (bytes: Uint8Array) => `sha256:${createHash('sha256').update(bytes).digest('hex')}`;
/** Not a real zip: the registry logic keeps the bytes as they are, whatever they hold. */
const zipOf = (text: string) => Buffer.from(`PK\u0003\u0004 configuration ${text}`);
/** A record of the most inputs a build may have, each with a digest. */
const recordOf = (zip: Uint8Array): InputRecord => ({
  configuration: sha256(zip),
  inputs: Array.from({ length: MAX_BUILD_INPUTS }, (_, i) => ({
    kind: i % 2 ? ('feature' as const) : ('base' as const),
    reference: `ghcr.io/example/input-${i}:1`,
    digest: `sha256:${i.toString(16).padStart(64, 'c')}`,
  })),
});

async function stagedBuild(text = `build ${round + 1}`) {
  round++;
  const staging = `devcontainers/builds/conf${round}`;
  const release = `devcontainers/images/conf${round}`;
  const buildId = round.toString(16).padStart(16, 'c');
  await pushTestImage(local.host, staging, `${buildId}-amd64`, 'amd64', { content: text });
  const zip = zipOf(text);
  return { staging, release, buildId, zip, inputs: encodeInputRecord(recordOf(zip)) };
}

test('GIVEN a build WHEN Manifest runs THEN the index records 64 inputs and its configuration zip reads back byte for byte, also for skopeo', async () => {
  const { staging, buildId, zip, inputs } = await stagedBuild();

  const result = await manifestImage(local.registry, { repository: staging, buildId, platforms: ['linux/amd64'], inputs, configuration: zip });

  const index = (await local.registry.getManifest(staging, buildId))!;
  expect(index.digest).toBe(result.index.digest);
  // The text Prepare wrote, put as it is: not a re-encoding of it.
  expect(JSON.parse(index.body.toString()).annotations[INPUTS_ANNOTATION]).toBe(inputs.text);
  expect(indexInputRecord(index.body, 'the index')?.inputs).toHaveLength(MAX_BUILD_INPUTS);
  const stored = await readImageConfiguration(local.registry, staging, index);
  expect(stored).toMatchObject({
    digest: sha256(zip),
    recorded: true,
    referrer: { digest: result.configuration.digest, artifactType: CONFIGURATION_ARTIFACT_TYPE },
  });
  expect(stored!.bytes).toEqual(zip);
  // The artifact manifest names the index as its subject, as an independent client sees it.
  const { stdout } = await exec('skopeo', ['inspect', '--tls-verify=false', '--raw', `docker://${local.host}/${staging}@${result.configuration.digest}`]);
  expect(JSON.parse(stdout)).toMatchObject({
    artifactType: CONFIGURATION_ARTIFACT_TYPE,
    subject: { digest: index.digest, mediaType: 'application/vnd.oci.image.index.v1+json' },
    layers: [{ mediaType: CONFIGURATION_ARTIFACT_TYPE, digest: sha256(zip), size: zip.length }],
  });
});

test('GIVEN Manifest run twice on the same build THEN it puts the same index and the same one referrer', async () => {
  const { staging, buildId, zip, inputs } = await stagedBuild();
  const first = await manifestImage(local.registry, { repository: staging, buildId, platforms: ['linux/amd64'], inputs, configuration: zip });
  const second = await manifestImage(local.registry, { repository: staging, buildId, platforms: ['linux/amd64'], inputs, configuration: zip });
  expect(second.index.digest).toBe(first.index.digest);
  expect(second.configuration.digest).toBe(first.configuration.digest);
  expect(await listReferrers(local.registry, staging, first.index.digest, CONFIGURATION_ARTIFACT_TYPE)).toHaveLength(1);
});

test('GIVEN a zip that is not the one Prepare recorded THEN Manifest refuses it and puts nothing', async () => {
  const { staging, buildId, inputs } = await stagedBuild();
  await expect(
    manifestImage(local.registry, { repository: staging, buildId, platforms: ['linux/amd64'], inputs, configuration: zipOf('another upload') }),
  ).rejects.toThrow(ManifestConfigurationError);
  expect(await local.registry.getManifest(staging, buildId)).toBeUndefined();
  expect((await local.registry.listTags(staging)).filter((t) => t.startsWith('sha256-'))).toEqual([]);
});

test('GIVEN an index built before configurations were kept THEN it has none to read', async () => {
  const { staging, buildId } = await stagedBuild();
  const index = await assembleIndex(local.registry, staging, buildId, ['linux/amd64']);
  expect(await readImageConfiguration(local.registry, staging, index)).toBeUndefined();
});

test('GIVEN a configuration referrer whose zip is not the one the index records THEN reading it refuses', async () => {
  const { staging, buildId, inputs } = await stagedBuild();
  const index = await assembleIndex(local.registry, staging, buildId, ['linux/amd64'], {
    [INPUTS_ANNOTATION]: encodeInputRecord({ configuration: inputs.record.configuration, inputs: [] }).text,
  });
  await storeImageConfiguration(
    local.registry,
    staging,
    { mediaType: index.mediaType, digest: index.digest, size: index.body.length },
    zipOf('not the recorded one'),
    buildId,
  );
  await expect(readImageConfiguration(local.registry, staging, index)).rejects.toThrow(ImageConfigurationError);
  await expect(readImageConfiguration(local.registry, staging, index)).rejects.toThrow(
    /records its configuration as sha256:[0-9a-f]{64}, but none of its 1 configuration referrer/,
  );
});

test('GIVEN a manifested build WHEN it is released THEN the released index carries the same configuration, and staging retention deletes it with the staged build', async () => {
  const { staging, release, buildId, zip, inputs } = await stagedBuild();
  const manifested = await manifestImage(local.registry, { repository: staging, buildId, platforms: ['linux/amd64'], inputs, configuration: zip });

  const result = await releaseImage(local.registry, release, {
    buildId,
    staging,
    version: '1.0.0',
    rules: { latest: true, semver: true, date: false },
    now: new Date(),
  });

  expect(result.promotion?.referrers).toBe(1);
  const latest = (await local.registry.getManifest(release, 'latest'))!;
  expect(latest.digest).toBe(manifested.index.digest);
  const stored = await readImageConfiguration(local.registry, release, latest);
  expect(stored?.bytes).toEqual(zip);
  expect(stored?.referrer.digest).toBe(manifested.configuration.digest);

  // Release retention keeps the fallback tag of the kept index; staging retention deletes it with the released build.
  const plan = await planRetention(local.registry, release, { kind: 'release', now: new Date() });
  expect(plan.delete).toEqual([]);
  expect(plan.keep.find((e) => e.tags.includes(referrersTag(latest.digest)))?.reason).toMatch(/^artifacts \(SBOM, configuration\) of kept image sha256:/);
  const staged = await applyRetention(local.registry, staging, { kind: 'staging', releaseRepository: release, now: new Date() });
  expect(staged.deleted.flatMap((e) => e.tags)).toContain(referrersTag(manifested.index.digest));
  expect(await local.registry.listTags(staging)).toEqual([]);
  expect((await readImageConfiguration(local.registry, release, latest))?.bytes).toEqual(zip);
});

test('GIVEN a promotion that stopped after the index, before its configuration THEN promoting again brings the configuration over', async () => {
  const { staging, release, buildId, zip, inputs } = await stagedBuild();
  const manifested = await manifestImage(local.registry, { repository: staging, buildId, platforms: ['linux/amd64'], inputs, configuration: zip });
  // A registry that fails the write of the index's fallback tag in the release repository once.
  let failed = false;
  const flaky = Object.create(local.registry) as OciRegistry;
  flaky.putManifest = async (repository, tag, mediaType, body) => {
    if (!failed && repository === release && tag === referrersTag(manifested.index.digest)) {
      failed = true;
      throw new Error('the registry went away');
    }
    return local.registry.putManifest(repository, tag, mediaType, body);
  };

  await expect(promoteBuild(flaky, staging, release, buildId)).rejects.toThrow(/cannot bring the artifacts \(configuration\) of the index/);
  expect((await local.registry.getManifest(release, buildId))?.digest).toBe(manifested.index.digest);

  const again = await promoteBuild(flaky, staging, release, buildId);
  expect(again).toMatchObject({ alreadyPromoted: true, referrers: 1 });
  expect((await readImageConfiguration(local.registry, release, (await local.registry.getManifest(release, buildId))!))?.bytes).toEqual(zip);
  // A third run finds nothing missing and writes nothing.
  expect(await promoteBuild(local.registry, staging, release, buildId)).toMatchObject({ alreadyPromoted: true, referrers: 0 });
});
