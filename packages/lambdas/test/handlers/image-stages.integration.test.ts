import {
  assembleIndex,
  encodeInputRecord,
  releaseImage,
  imageBuildId,
  INPUTS_ANNOTATION,
  prepareImage,
  prepareOutputVariables,
} from '@devcontainer-factory/core';
import { pushTestImage } from '@devcontainer-factory/testing';
import { useLocalRegistry } from '@devcontainer-factory/testing';
import { configZip } from './job-fixtures';

// The image pipeline's Lambda stages in the order the pipeline runs them, against a
// real CNCF distribution registry: Prepare → (Build pushes per-arch images) →
// Manifest → Release, then Prepare again on the same upload says "released".

jest.setTimeout(60_000);
const RULES = { latest: true, semver: true, date: true };
const BASE = 'acme/images/base';
const IMAGE = 'acme/images/python';

const live = useLocalRegistry();

test('an upload is built once: after its release, Prepare on the same bytes says Released=true', async () => {
  // GIVEN a released base image and an upload that depends on it
  const base = await pushTestImage(live.host, BASE, 'latest', 'amd64', { content: 'base v1' });
  const zip = configZip(
    '{ "image": "${localEnv:DCF_REGISTRY}/${localEnv:DCF_NAMESPACE}/images/base:latest", "customizations": { "devcontainer-factory": { "version": "2.0.0" } } }',
  );

  // WHEN Prepare runs on the first upload
  const first = await prepareImage(live.registry, { zip, repository: IMAGE, baseRepositories: [BASE], namespace: 'acme' });
  // THEN the build id covers the zip, the dependsOn base and the image the configuration names (the same one), and nothing is released yet
  const input = { kind: 'base' as const, reference: `${live.host}/${BASE}:latest`, digest: base.digest };
  expect(first.inputs).toEqual([input]);
  expect(first.buildId).toBe(imageBuildId(zip, [{ repository: BASE, digest: base.digest }], [input]));
  expect(prepareOutputVariables(first)).toEqual({
    BuildId: first.buildId,
    Version: '2.0.0',
    Released: 'false',
    Reason: `build ${first.buildId}: no earlier release records its inputs`,
  });

  // WHEN Build pushes the per-arch images, Manifest assembles the index and Release tags it
  await pushTestImage(live.host, IMAGE, `${first.buildId}-amd64`, 'amd64');
  await pushTestImage(live.host, IMAGE, `${first.buildId}-arm64`, 'arm64');
  const index = await assembleIndex(live.registry, IMAGE, first.buildId, ['linux/amd64', 'linux/arm64'], {
    [INPUTS_ANNOTATION]: encodeInputRecord(first.record).text,
  });
  const release = await releaseImage(live.registry, IMAGE, { buildId: first.buildId, version: '2.0.0', rules: RULES, now: new Date('2025-01-02T03:04:05Z') });
  expect(release.digest).toBe(index.digest);
  expect(release.tags).toEqual(['2.0.0', '2.0', '2', 'latest', '20250102']);

  // THEN the same upload is recognised as released (the pipeline skips Build, Manifest and Test)
  const again = await prepareImage(live.registry, { zip, repository: IMAGE, baseRepositories: [BASE], namespace: 'acme' });
  expect(again).toMatchObject({ buildId: first.buildId, released: true });

  // AND a new base latest gives a new, unreleased build id for the same bytes
  await pushTestImage(live.host, BASE, 'latest', 'amd64', { content: 'base v2' });
  const rebased = await prepareImage(live.registry, { zip, repository: IMAGE, baseRepositories: [BASE], namespace: 'acme' });
  expect(rebased.buildId).not.toBe(first.buildId);
  expect(rebased.released).toBe(false);
  // AND Prepare says why: the base moved since the release latest points at
  expect(rebased.changes).toEqual([`base ${live.host}/${BASE}:latest moved to ${rebased.inputs[0].digest.slice(0, 19)} (from ${base.digest.slice(0, 19)})`]);
  expect(prepareOutputVariables(rebased).Reason).toMatch(/^build [0-9a-f]{16}: base localhost:\d+\/acme\/images\/base:latest moved to sha256:/);
});

test('Prepare fails with what to do when a base image has no latest yet', async () => {
  const zip = configZip('{ "image": "base" }');
  await expect(prepareImage(live.registry, { zip, repository: IMAGE, baseRepositories: ['acme/images/missing'], namespace: 'acme' })).rejects.toThrow(
    /acme\/images\/missing:latest does not exist: release the base image first/,
  );
});
