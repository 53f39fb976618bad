import { CodePipelineClient, PutJobFailureResultCommand, PutJobSuccessResultCommand } from '@aws-sdk/client-codepipeline';
import { GetObjectCommand, S3Client } from '@aws-sdk/client-s3';
import { mockClient } from 'aws-sdk-client-mock';
import {
  CONFIGURATION_ARTIFACT_TYPE,
  INPUTS_ANNOTATION,
  MAX_BUILD_INPUTS,
  INPUTS_ARTIFACT_FILE,
  encodeInputRecord,
  inputsArtifactBytes,
  referrersTag,
  writeZip,
  type InputRecord,
} from '@devcontainer-factory/core';
import { runManifestJob } from '../../src/handlers/manifest';
import { MemoryEcr } from '../support/memory-ecr';
import {
  INPUTS_ARTIFACT,
  REGISTRY_HOST,
  SOURCE_ARTIFACT,
  configZip,
  digestOf,
  imageManifest,
  jobEvent,
  noWait,
  quietLog,
  s3Body,
  sdkError,
} from './job-fixtures';

// Manifest reads the build's input record from Prepare's output artifact and the uploaded
// zip from the source artifact (with the job's credentials), puts the index annotated with
// the record, and keeps the zip beside it as its referrer: at the most inputs a build may
// have, whose record no action configuration value could hold.

const codepipeline = mockClient(CodePipelineClient);
const s3 = mockClient(S3Client);
const STAGING = 'devcontainers/builds/python';
const BUILD = '0123456789abcdef';
const INDEX_TYPE = 'application/vnd.oci.image.index.v1+json';
const amd64 = imageManifest({ os: 'linux', architecture: 'amd64', rootfs: { type: 'layers', diff_ids: [] } });
const arm64 = imageManifest({ os: 'linux', architecture: 'arm64', variant: 'v8', rootfs: { type: 'layers', diff_ids: [] } });
const zip = configZip('{ "image": "mcr.microsoft.com/devcontainers/base:ubuntu" }');
/** Prepare's record of the build: the zip and the most inputs a build may have, each with its digest. */
const record: InputRecord = {
  configuration: digestOf(zip),
  inputs: Array.from({ length: MAX_BUILD_INPUTS }, (_, i) => ({
    kind: 'feature' as const,
    reference: `ghcr.io/devcontainers/features/feature-number-${i}:1`,
    digest: `sha256:${String(i).padStart(64, 'b')}`,
  })),
};
const params = {
  registryHost: REGISTRY_HOST,
  repository: STAGING,
  buildId: BUILD,
  platforms: ['linux/amd64', 'linux/arm64'],
  sourceArtifact: 'Source',
  inputsArtifact: 'Inputs',
};
const event = (options: { id?: string } = {}) => jobEvent(params, { ...options, inputs: [SOURCE_ARTIFACT, INPUTS_ARTIFACT], outputs: [] });
let ecr: MemoryEcr;
let clients: Parameters<typeof runManifestJob>[1];

/** What S3 holds at the artifacts' keys. */
function artifacts(source: Uint8Array, inputs: Uint8Array): void {
  s3.on(GetObjectCommand, { Key: SOURCE_ARTIFACT.location.s3Location.objectKey }).resolves(s3Body(source));
  s3.on(GetObjectCommand, { Key: INPUTS_ARTIFACT.location.s3Location.objectKey }).resolves(s3Body(inputs));
}

function failureMessage(): string {
  expect(codepipeline.commandCalls(PutJobSuccessResultCommand)).toHaveLength(0);
  return codepipeline.commandCalls(PutJobFailureResultCommand)[0].args[0].input.failureDetails!.message!;
}

beforeEach(() => {
  codepipeline.reset();
  s3.reset();
  codepipeline.onAnyCommand().resolves({});
  ecr = new MemoryEcr(REGISTRY_HOST);
  for (const [arch, image] of [
    ['amd64', amd64],
    ['arm64', arm64],
  ] as const) {
    ecr.put(STAGING, image.manifest, 'application/vnd.oci.image.manifest.v1+json', `${BUILD}-${arch}`);
    ecr.putBlob(STAGING, image.config);
  }
  clients = { codepipeline: new CodePipelineClient({ region: 'eu-west-1' }), ecr: ecr.client, fetch: ecr.fetch, retry: noWait, log: quietLog };
  artifacts(zip, inputsArtifactBytes(record));
});

test('GIVEN 64 inputs with digests THEN it puts the index <build> annotated with all of them, and outputs its digest', async () => {
  // WHEN
  await runManifestJob(event(), clients);
  // THEN
  const index = ecr.manifest(STAGING, BUILD)!;
  expect(index.mediaType).toBe(INDEX_TYPE);
  const body = JSON.parse(index.body);
  expect(body.manifests).toEqual([
    {
      mediaType: 'application/vnd.oci.image.manifest.v1+json',
      digest: digestOf(amd64.manifest),
      size: amd64.manifest.length,
      platform: { architecture: 'amd64', os: 'linux' },
    },
    {
      mediaType: 'application/vnd.oci.image.manifest.v1+json',
      digest: digestOf(arm64.manifest),
      size: arm64.manifest.length,
      platform: { architecture: 'arm64', os: 'linux', variant: 'v8' },
    },
  ]);
  expect(body.annotations[INPUTS_ANNOTATION]).toBe(encodeInputRecord(record).text);
  expect(body.annotations[INPUTS_ANNOTATION].length).toBeGreaterThan(1000);
  const success = codepipeline.commandCalls(PutJobSuccessResultCommand)[0].args[0].input;
  expect(success.outputVariables).toEqual({ IndexDigest: index.digest });
  // Both artifacts were read with the job's credentials' client, from where the job says they are.
  expect(
    s3
      .commandCalls(GetObjectCommand)
      .map((c) => c.args[0].input.Key)
      .sort(),
  ).toEqual([INPUTS_ARTIFACT.location.s3Location.objectKey, SOURCE_ARTIFACT.location.s3Location.objectKey].sort());
});

test('THEN the uploaded zip is kept beside the index as its configuration referrer, listed by the fallback tag', async () => {
  await runManifestJob(event(), clients);
  const index = ecr.manifest(STAGING, BUILD)!;
  // The zip went up as a blob through ECR's OCI endpoint, byte for byte, with the OCI empty config of an artifact.
  expect(ecr.uploads).toEqual([
    { repository: STAGING, digest: digestOf(zip), size: zip.length },
    { repository: STAGING, digest: digestOf('{}'), size: 2 },
  ]);
  expect(ecr.blob(STAGING, digestOf(zip))).toEqual(Buffer.from(zip));
  const fallback = JSON.parse(ecr.manifest(STAGING, referrersTag(index.digest))!.body);
  expect(fallback.manifests).toHaveLength(1);
  expect(fallback.manifests[0]).toMatchObject({ artifactType: CONFIGURATION_ARTIFACT_TYPE, annotations: { 'dev.devcontainer-factory.build': BUILD } });
  const referrer = JSON.parse(ecr.manifest(STAGING, fallback.manifests[0].digest)!.body);
  expect(referrer).toMatchObject({
    artifactType: CONFIGURATION_ARTIFACT_TYPE,
    subject: { mediaType: INDEX_TYPE, digest: index.digest, size: index.body.length },
    layers: [{ mediaType: CONFIGURATION_ARTIFACT_TYPE, digest: digestOf(zip), size: zip.length }],
  });
  expect(codepipeline.commandCalls(PutJobSuccessResultCommand)[0].args[0].input.executionDetails?.summary).toMatch(
    new RegExp(`its configuration is kept beside it \\(referrer ${fallback.manifests[0].digest}\\)`),
  );
});

test('running the action twice puts the same index and the same one referrer', async () => {
  await runManifestJob(event({ id: 'a' }), clients);
  const first = ecr.manifest(STAGING, BUILD)!.digest;
  await runManifestJob(event({ id: 'b' }), clients);
  expect(ecr.manifest(STAGING, BUILD)!.digest).toBe(first);
  expect(JSON.parse(ecr.manifest(STAGING, referrersTag(first))!.body).manifests).toHaveLength(1);
  expect(codepipeline.commandCalls(PutJobSuccessResultCommand)).toHaveLength(2);
});

test('GIVEN a record with a field this Manifest does not know (a newer Prepare wrote it) THEN the index carries the text Prepare wrote, byte for byte', async () => {
  // GIVEN
  const text = JSON.stringify({ resolvedBy: 'prepare 9.0', ...JSON.parse(encodeInputRecord(record).text) });
  artifacts(zip, writeZip({ files: new Map([[INPUTS_ARTIFACT_FILE, Buffer.from(text)]]), executables: new Set() }));
  // WHEN
  await runManifestJob(event(), clients);
  // THEN Manifest checked the record and passed it through: it did not decode and write it again
  expect(JSON.parse(ecr.manifest(STAGING, BUILD)!.body).annotations[INPUTS_ANNOTATION]).toBe(text);
});

test('a source artifact that is not the zip Prepare recorded fails the action before anything is put', async () => {
  artifacts(configZip('{ "image": "another" }'), inputsArtifactBytes(record));
  await runManifestJob(event(), clients);
  expect(failureMessage()).toMatch(/the source artifact is not the upload the build was prepared from; nothing was put/);
  expect(ecr.manifest(STAGING, BUILD)).toBeUndefined();
  expect(ecr.uploads).toEqual([]);
});

test("an inputs artifact that is not Prepare's record fails the action, naming the artifact", async () => {
  artifacts(zip, Buffer.from(encodeInputRecord(record).text));
  await runManifestJob(event(), clients);
  expect(failureMessage()).toMatch(/s3:\/\/artifacts\/pipeline\/Inputs\/def \(artifact Inputs\) is not the input record Prepare writes/);
  expect(ecr.manifest(STAGING, BUILD)).toBeUndefined();
});

test('an action without the inputs artifact fails and says to redeploy', async () => {
  await runManifestJob(jobEvent(params, { inputs: [SOURCE_ARTIFACT], outputs: [] }), clients);
  expect(failureMessage()).toMatch(/the action has no S3 input artifact Inputs \(it has Source\): redeploy the pipeline stack/);
});

test('a missing per-arch image fails the action and names the tag', async () => {
  ecr = new MemoryEcr(REGISTRY_HOST);
  ecr.put(STAGING, amd64.manifest, 'application/vnd.oci.image.manifest.v1+json', `${BUILD}-amd64`);
  ecr.putBlob(STAGING, amd64.config);
  await runManifestJob(event(), { ...clients, ecr: ecr.client, fetch: ecr.fetch });
  expect(failureMessage()).toMatch(new RegExp(`${STAGING}:${BUILD}-arm64 does not exist`));
  expect(ecr.manifest(STAGING, BUILD)).toBeUndefined();
  expect(ecr.uploads).toEqual([]);
});

test('an image built for the wrong architecture fails the action before anything is put', async () => {
  ecr.put(STAGING, amd64.manifest, 'application/vnd.oci.image.manifest.v1+json', `${BUILD}-arm64`);
  await runManifestJob(event(), clients);
  expect(failureMessage()).toMatch(/holds a linux\/amd64 image, but that tag is for linux\/arm64/);
  expect(ecr.manifest(STAGING, BUILD)).toBeUndefined();
  expect(ecr.uploads).toEqual([]);
});

test('a throttled PutImage is retried and the index is put once it goes through', async () => {
  let throttled = false;
  ecr.beforeEach = (command) => {
    if (command === 'PutImageCommand' && !throttled) {
      throttled = true;
      throw sdkError('ThrottlingException');
    }
  };
  await runManifestJob(event(), clients);
  expect(throttled).toBe(true);
  expect(codepipeline.commandCalls(PutJobSuccessResultCommand)).toHaveLength(1);
  expect(ecr.manifest(STAGING, BUILD)).toBeDefined();
});
