import { CodePipelineClient, PutJobFailureResultCommand, PutJobSuccessResultCommand } from '@aws-sdk/client-codepipeline';
import { BatchGetImageCommand, ECRClient, ListImagesCommand } from '@aws-sdk/client-ecr';
import { GetObjectCommand, PutObjectCommand, S3Client } from '@aws-sdk/client-s3';
import { mockClient } from 'aws-sdk-client-mock';
import { strToU8, zipSync } from 'fflate';
import { imageBuildId, parseInputsArtifact } from '@devcontainer-factory/core';
import { runPrepareJob } from '../../src/handlers/prepare';
import {
  ARTIFACT_KEY,
  INPUTS_ARTIFACT,
  REGISTRY_HOST,
  REPOSITORY,
  UPSTREAM_MANIFEST,
  configZip,
  digestOf,
  jobEvent,
  noWait,
  prepareClients,
  s3Body,
  sdkError,
} from './job-fixtures';

const codepipeline = mockClient(CodePipelineClient);
const ecr = mockClient(ECRClient);
const s3 = mockClient(S3Client);
const clients = prepareClients();
const BASE = 'devcontainers/images/base';
const params = { registryHost: REGISTRY_HOST, repository: REPOSITORY, baseRepositories: [] as string[], namespace: 'devcontainers' };
/** The one input of `zip`: its `image`, as the fake upstream registry resolves it. */
const UBUNTU = { kind: 'base', reference: 'mcr.microsoft.com/devcontainers/base:ubuntu', digest: digestOf(UPSTREAM_MANIFEST) };
const zip = configZip(
  '{\n  // comments are fine\n  "image": "mcr.microsoft.com/devcontainers/base:ubuntu",\n  "customizations": { "devcontainer-factory": { "version": "1.2.3" } },\n}\n',
);

beforeEach(() => {
  codepipeline.reset();
  ecr.reset();
  s3.reset();
  codepipeline.onAnyCommand().resolves({});
  s3.on(GetObjectCommand).resolves(s3Body(zip));
  // By default: nothing in the image's repository yet.
  ecr.on(BatchGetImageCommand).resolves({ images: [], failures: [{ failureCode: 'ImageNotFound', failureReason: 'Requested image not found' }] });
  ecr.on(ListImagesCommand).resolves({ imageIds: [] });
});

function successVariables() {
  expect(codepipeline.commandCalls(PutJobFailureResultCommand).map((c) => c.args[0].input.failureDetails?.message)).toEqual([]);
  return codepipeline.commandCalls(PutJobSuccessResultCommand)[0].args[0].input.outputVariables;
}

function failureMessage(): string {
  expect(codepipeline.commandCalls(PutJobSuccessResultCommand)).toHaveLength(0);
  return codepipeline.commandCalls(PutJobFailureResultCommand)[0].args[0].input.failureDetails!.message!;
}

test('a new upload gets the content-hash build id, its version, and Released=false', async () => {
  await runPrepareJob(jobEvent(params), clients);
  const buildId = imageBuildId(zip, [], [UBUNTU]);
  expect(successVariables()).toEqual({
    BuildId: buildId,
    Version: '1.2.3',
    Released: 'false',
    Reason: `build ${buildId}: no earlier release records its inputs`,
  });
  // The zip was read with the job's artifact credentials' client, from the artifact's location.
  expect(s3.commandCalls(GetObjectCommand)[0].args[0].input).toEqual({ Bucket: 'artifacts', Key: 'pipeline/Source/abc.zip' });
});

test("the input record goes to the action's output artifact, with the job's credentials, encrypted with the artifact store's key", async () => {
  await runPrepareJob(jobEvent(params), clients);
  successVariables();
  const put = s3.commandCalls(PutObjectCommand);
  expect(put).toHaveLength(1);
  const input = put[0].args[0].input;
  expect(input).toMatchObject({
    Bucket: 'artifacts',
    Key: INPUTS_ARTIFACT.location.s3Location.objectKey,
    ServerSideEncryption: 'aws:kms',
    SSEKMSKeyId: ARTIFACT_KEY,
    ContentType: 'application/zip',
  });
  expect(parseInputsArtifact(input.Body as Uint8Array, 'the artifact').record).toEqual({ configuration: digestOf(zip), inputs: [UBUNTU] });
});

test('an action without its output artifact fails and says to redeploy', async () => {
  await runPrepareJob(jobEvent(params, { outputs: [] }), clients);
  expect(failureMessage()).toMatch(/exactly one S3 output artifact \(it has 0\): redeploy the pipeline stack/);
});

test('a failed write of the output artifact fails the action, naming where', async () => {
  s3.on(PutObjectCommand).rejects(sdkError('AccessDenied', 403));
  await runPrepareJob(jobEvent(params), clients);
  expect(failureMessage()).toMatch(/cannot write s3:\/\/artifacts\/pipeline\/Inputs\/def \(artifact Inputs\): AccessDenied/);
});

test('the same bytes uploaded twice give the same build id', async () => {
  await runPrepareJob(jobEvent(params, { id: 'first' }), clients);
  await runPrepareJob(jobEvent(params, { id: 'second' }), clients);
  const ids = codepipeline.commandCalls(PutJobSuccessResultCommand).map((c) => c.args[0].input.outputVariables!.BuildId);
  expect(ids).toHaveLength(2);
  expect(ids[0]).toBe(ids[1]);
  expect(ids[0]).toMatch(/^[0-9a-f]{16}$/);
});

test('a build whose index already carries a release tag is Released=true', async () => {
  // GIVEN <build> exists and 'latest' points at the same digest
  const buildId = imageBuildId(zip, [], [UBUNTU]);
  const index = JSON.stringify({ schemaVersion: 2, mediaType: 'application/vnd.oci.image.index.v1+json', manifests: [] });
  ecr.on(BatchGetImageCommand, { repositoryName: REPOSITORY, imageIds: [{ imageTag: buildId }] }).resolves({
    images: [
      {
        imageId: { imageTag: buildId, imageDigest: digestOf(index) },
        imageManifest: index,
        imageManifestMediaType: 'application/vnd.oci.image.index.v1+json',
      },
    ],
  });
  ecr.on(ListImagesCommand).resolves({
    imageIds: [
      { imageTag: buildId, imageDigest: digestOf(index) },
      { imageTag: 'latest', imageDigest: digestOf(index) },
    ],
  });
  // WHEN
  await runPrepareJob(jobEvent(params), clients);
  // THEN
  expect(successVariables()).toMatchObject({ BuildId: buildId, Released: 'true' });
});

test("the base images' latest digests enter the build id, so a moved base means a new build", async () => {
  // GIVEN the base's latest is at one digest, then another
  const manifestA = JSON.stringify({ schemaVersion: 2, mediaType: 'application/vnd.oci.image.index.v1+json', manifests: [], annotations: { v: 'a' } });
  const manifestB = JSON.stringify({ schemaVersion: 2, mediaType: 'application/vnd.oci.image.index.v1+json', manifests: [], annotations: { v: 'b' } });
  const baseAnswer = (m: string) => ({ images: [{ imageId: { imageTag: 'latest', imageDigest: digestOf(m) }, imageManifest: m }] });
  ecr.on(BatchGetImageCommand, { repositoryName: BASE }).resolvesOnce(baseAnswer(manifestA)).resolvesOnce(baseAnswer(manifestB));
  const withBase = { ...params, baseRepositories: [BASE] };
  // WHEN
  await runPrepareJob(jobEvent(withBase, { id: 'a' }), clients);
  await runPrepareJob(jobEvent(withBase, { id: 'b' }), clients);
  // THEN
  const [a, b] = codepipeline.commandCalls(PutJobSuccessResultCommand).map((c) => c.args[0].input.outputVariables!);
  expect(a).not.toHaveProperty('BaseDigests');
  expect(a.BuildId).toBe(imageBuildId(zip, [{ repository: BASE, digest: digestOf(manifestA) }], [UBUNTU]));
  expect(b.BuildId).not.toBe(a.BuildId);
  expect(a.BuildId).not.toBe(imageBuildId(zip, [], [UBUNTU]));
});

test('a base image that was never released fails the action with what to do', async () => {
  await runPrepareJob(jobEvent({ ...params, baseRepositories: [BASE] }), clients);
  expect(failureMessage()).toMatch(new RegExp(`base image ${REGISTRY_HOST}/${BASE}:latest does not exist: release the base image first`));
});

test('a configuration without a version gets Version=none', async () => {
  s3.on(GetObjectCommand).resolves(s3Body(configZip('{ "image": "debian:12" }')));
  await runPrepareJob(jobEvent(params), clients);
  expect(successVariables()).toMatchObject({ Version: 'none' });
});

test('a malformed devcontainer.json fails the action with file, line and column, before any registry call', async () => {
  s3.on(GetObjectCommand).resolves(s3Body(configZip('{\n  "image": "debian:12"\n  "features": {}\n}')));
  await runPrepareJob(jobEvent(params), clients);
  expect(failureMessage()).toMatch(/\.devcontainer\/devcontainer\.json:3:3: CommaExpected/);
  expect(ecr.calls()).toHaveLength(0);
});

test('a version that is not semver fails the action and says how to write one', async () => {
  s3.on(GetObjectCommand).resolves(s3Body(configZip('{ "image": "debian:12", "customizations": { "devcontainer-factory": { "version": "v1" } } }')));
  await runPrepareJob(jobEvent(params), clients);
  expect(failureMessage()).toMatch(/version 'v1' is not a semantic version: use X\.Y\.Z/);
});

test('a zip without devcontainer.json fails the action and says where the file belongs', async () => {
  s3.on(GetObjectCommand).resolves(s3Body(zipSync({ 'README.md': strToU8('# python') })));
  await runPrepareJob(jobEvent(params), clients);
  expect(failureMessage()).toMatch(
    /\.devcontainer\/devcontainer\.json: is missing: the zip must hold \.devcontainer\/devcontainer\.json or \.devcontainer\.json at its root/,
  );
});

test('an artifact that is not a zip fails the action', async () => {
  s3.on(GetObjectCommand).resolves(s3Body(strToU8('not a zip at all')));
  await runPrepareJob(jobEvent(params), clients);
  expect(failureMessage()).toMatch(/\(source zip\): is not a readable zip/);
});

test('ECR throttling is retried with backoff and the job still succeeds', async () => {
  // GIVEN ECR throttles the first reads
  ecr
    .on(BatchGetImageCommand)
    .rejectsOnce(sdkError('ThrottlingException'))
    .rejectsOnce(sdkError('ThrottlingException'))
    .resolves({ images: [], failures: [{ failureCode: 'ImageNotFound' }] });
  // WHEN
  await runPrepareJob(jobEvent(params), clients);
  // THEN
  expect(successVariables()).toMatchObject({ Released: 'false' });
  // <build> three times (two throttled), then latest, whose index records the inputs of the last release.
  expect(ecr.commandCalls(BatchGetImageCommand).map((c) => c.args[0].input.imageIds?.[0].imageTag)).toEqual([
    expect.stringMatching(/^[0-9a-f]{16}$/),
    expect.any(String),
    expect.any(String),
    'latest',
  ]);
});

test('ECR throttling that never ends fails the action after the retries', async () => {
  ecr.on(BatchGetImageCommand).rejects(sdkError('ThrottlingException'));
  await runPrepareJob(jobEvent(params), { ...clients, retry: { ...noWait, retries: 2 } });
  expect(failureMessage()).toMatch(/ThrottlingException/);
  expect(ecr.commandCalls(BatchGetImageCommand)).toHaveLength(3);
});

test('an unreadable artifact fails the action with its location', async () => {
  s3.on(GetObjectCommand).rejects(sdkError('AccessDenied', 403));
  await runPrepareJob(jobEvent(params), clients);
  expect(failureMessage()).toMatch(/cannot read s3:\/\/artifacts\/pipeline\/Source\/abc\.zip \(artifact Source\): AccessDenied/);
});

test('UserParameters without a repository fail the action and say what is missing', async () => {
  await runPrepareJob(jobEvent({ registryHost: REGISTRY_HOST, baseRepositories: [] }), clients);
  expect(failureMessage()).toMatch(/UserParameters\.repository must be a non-empty string/);
});
