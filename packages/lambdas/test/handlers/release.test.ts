import { CodePipelineClient, PutJobFailureResultCommand, PutJobSuccessResultCommand } from '@aws-sdk/client-codepipeline';
import { BatchGetImageCommand, ECRClient, ListImagesCommand, PutImageCommand } from '@aws-sdk/client-ecr';
import { DeleteItemCommand, DynamoDBClient, PutItemCommand } from '@aws-sdk/client-dynamodb';
import { mockClient } from 'aws-sdk-client-mock';
import { RELEASE_LOCK_TABLE_ENVIRONMENT } from '@devcontainer-factory/core';
import { runReleaseJob } from '../../src/handlers/release';
import { REGISTRY_HOST, REPOSITORY, digestOf, jobEvent, noWait, quietLog, sdkError } from './job-fixtures';

const codepipeline = mockClient(CodePipelineClient);
const ecr = mockClient(ECRClient);
const BUILD = 'fedcba9876543210';
const INDEX = JSON.stringify({ schemaVersion: 2, mediaType: 'application/vnd.oci.image.index.v1+json', manifests: [], annotations: { build: BUILD } });
const OTHER = digestOf('another image');
const clients = {
  codepipeline: new CodePipelineClient({ region: 'eu-west-1' }),
  ecr: new ECRClient({ region: 'eu-west-1' }),
  now: () => new Date('2025-03-04T10:00:00Z'),
  retry: noWait,
  log: quietLog,
};
const STAGING = 'devcontainers/builds/python';
const params = {
  registryHost: REGISTRY_HOST,
  repository: REPOSITORY,
  stagingRepository: STAGING,
  buildId: BUILD,
  version: '1.2.3',
  rules: ['latest', 'semver', 'date'],
};

function tags(entries: Record<string, string>) {
  ecr.on(ListImagesCommand).resolves({ imageIds: Object.entries(entries).map(([imageTag, imageDigest]) => ({ imageTag, imageDigest })) });
}

beforeEach(() => {
  codepipeline.reset();
  ecr.reset();
  codepipeline.onAnyCommand().resolves({});
  // Any other tag or digest is not there, as ECR answers (the referrers fallback tags among them).
  ecr.on(BatchGetImageCommand).resolves({ images: [], failures: [{ failureCode: 'ImageNotFound' }] });
  ecr.on(BatchGetImageCommand, { imageIds: [{ imageTag: BUILD }] }).resolves({
    images: [
      { imageId: { imageTag: BUILD, imageDigest: digestOf(INDEX) }, imageManifest: INDEX, imageManifestMediaType: 'application/vnd.oci.image.index.v1+json' },
    ],
  });
  ecr.on(PutImageCommand).callsFake((input) => ({ image: { imageId: { imageDigest: input.imageDigest, imageTag: input.imageTag } } }));
  tags({ [BUILD]: digestOf(INDEX) });
});

const putTags = () => ecr.commandCalls(PutImageCommand).map((c) => c.args[0].input.imageTag);

test('GIVEN the tested build only in staging, WHEN it is released, THEN it is promoted (index <build> put into the release repository first), then tagged, and the summary says so', async () => {
  // GIVEN: the release repository has no <build> yet
  ecr
    .on(BatchGetImageCommand, { repositoryName: REPOSITORY, imageIds: [{ imageTag: BUILD }] })
    .resolves({ images: [], failures: [{ failureCode: 'ImageNotFound' }] });
  tags({});
  // WHEN
  await runReleaseJob(jobEvent(params, { withInput: false }), clients);
  // THEN
  const puts = ecr.commandCalls(PutImageCommand).map((c) => [c.args[0].input.repositoryName, c.args[0].input.imageTag]);
  expect(puts).toEqual([[REPOSITORY, BUILD], ...['1.2.3', '1.2', '1', 'latest', '20250304'].map((t) => [REPOSITORY, t])]);
  expect(ecr.commandCalls(PutImageCommand).some((c) => c.args[0].input.repositoryName === STAGING)).toBe(false);
  expect(codepipeline.commandCalls(PutJobSuccessResultCommand)[0].args[0].input.executionDetails?.summary).toMatch(
    /promoted from devcontainers\/builds\/python/,
  );
});

test('a first release puts X.Y.Z, X.Y, X, latest and the date tag on the index, and outputs them', async () => {
  await runReleaseJob(jobEvent(params, { withInput: false }), clients);
  expect(putTags()).toEqual(['1.2.3', '1.2', '1', 'latest', '20250304']);
  expect(ecr.commandCalls(PutImageCommand).every((c) => c.args[0].input.imageManifest === INDEX)).toBe(true);
  expect(codepipeline.commandCalls(PutJobSuccessResultCommand)[0].args[0].input.outputVariables).toEqual({
    Digest: digestOf(INDEX),
    Tags: '1.2.3,1.2,1,latest,20250304',
    Moved: '1.2.3,1.2,1,latest,20250304',
  });
});

test('an older version gets only its own tags: X, latest and the date tag stay on the newest', async () => {
  tags({ [BUILD]: digestOf(INDEX), '1.3.0': OTHER, '1.3': OTHER, '1': OTHER, latest: OTHER });
  await runReleaseJob(jobEvent({ ...params, version: '1.2.4' }, { withInput: false }), clients);
  expect(putTags()).toEqual(['1.2.4', '1.2']);
});

test('an existing X.Y.Z at another digest fails the action, says to bump the version, and moves no tag', async () => {
  tags({ [BUILD]: digestOf(INDEX), '1.2.3': OTHER, latest: OTHER });
  await runReleaseJob(jobEvent(params, { withInput: false }), clients);
  const message = codepipeline.commandCalls(PutJobFailureResultCommand)[0].args[0].input.failureDetails!.message;
  expect(message).toMatch(/1\.2\.3 is already released as sha256:[0-9a-f]{64}.*bump the version/);
  expect(ecr.commandCalls(PutImageCommand)).toHaveLength(0);
});

test('running the same release twice moves nothing the second time', async () => {
  // GIVEN every tag already points at the index
  const d = digestOf(INDEX);
  tags({ [BUILD]: d, '1.2.3': d, '1.2': d, '1': d, latest: d, '20250304': d });
  // WHEN
  await runReleaseJob(jobEvent(params, { withInput: false }), clients);
  // THEN
  expect(putTags()).toEqual([]);
  expect(codepipeline.commandCalls(PutJobSuccessResultCommand)[0].args[0].input.outputVariables).toMatchObject({ Moved: 'none' });
});

test('without a version (Version=none) only latest and the date tag move', async () => {
  await runReleaseJob(jobEvent({ ...params, version: 'none' }, { withInput: false }), clients);
  expect(putTags()).toEqual(['latest', '20250304']);
});

test('the semver rule alone on an image without a version fails and says to set one', async () => {
  await runReleaseJob(jobEvent({ ...params, version: 'none', rules: ['semver'] }, { withInput: false }), clients);
  const message = codepipeline.commandCalls(PutJobFailureResultCommand)[0].args[0].input.failureDetails!.message;
  expect(message).toMatch(/the 'semver' rule needs a version: set customizations\['devcontainer-factory'\]\.version/);
  expect(ecr.commandCalls(PutImageCommand)).toHaveLength(0);
});

test('a build that was never assembled fails the action before any tag moves', async () => {
  ecr.on(BatchGetImageCommand, { imageIds: [{ imageTag: BUILD }] }).resolves({ images: [], failures: [{ failureCode: 'ImageNotFound' }] });
  await runReleaseJob(jobEvent(params, { withInput: false }), clients);
  const message = codepipeline.commandCalls(PutJobFailureResultCommand)[0].args[0].input.failureDetails!.message;
  expect(message).toMatch(new RegExp(`neither ${REGISTRY_HOST}/${STAGING}:${BUILD} \\(staging\\) nor ${REPOSITORY}:${BUILD} exists`));
  expect(ecr.commandCalls(PutImageCommand)).toHaveLength(0);
});

test('ECR throttling on ListImages is retried and the release completes', async () => {
  ecr
    .on(ListImagesCommand)
    .rejectsOnce(sdkError('ThrottlingException'))
    .resolves({ imageIds: [{ imageTag: BUILD, imageDigest: digestOf(INDEX) }] });
  await runReleaseJob(jobEvent(params, { withInput: false }), clients);
  expect(ecr.commandCalls(ListImagesCommand)).toHaveLength(2);
  expect(putTags()).toEqual(['1.2.3', '1.2', '1', 'latest', '20250304']);
});

test('an unresolved build id variable fails the action and says which action did not run', async () => {
  await runReleaseJob(jobEvent({ ...params, buildId: '#{Prepare.BuildId}' }, { withInput: false }), clients);
  const message = codepipeline.commandCalls(PutJobFailureResultCommand)[0].args[0].input.failureDetails!.message;
  expect(message).toMatch(/UserParameters\.buildId is the unresolved variable #\{Prepare\.BuildId\}/);
});

describe('the release lock shared with Retention', () => {
  const dynamo = mockClient(DynamoDBClient);
  beforeEach(() => {
    dynamo.reset();
    dynamo.on(PutItemCommand).resolves({});
    dynamo.on(DeleteItemCommand).resolves({});
  });

  test('GIVEN the function names a lock table WHEN it releases THEN it takes the lock of the release repository before its first write and gives it up after its last', async () => {
    // GIVEN
    const order: string[] = [];
    dynamo.on(PutItemCommand).callsFake((input) => void order.push(`lock ${input.Item.lock.S}`));
    dynamo.on(DeleteItemCommand).callsFake((input) => void order.push(`unlock ${input.Key.lock.S}`));
    ecr
      .on(PutImageCommand)
      .callsFake((input) => (order.push(`put ${input.imageTag}`), { image: { imageId: { imageDigest: input.imageDigest, imageTag: input.imageTag } } }));

    // WHEN
    await runReleaseJob(
      jobEvent(params, { withInput: false }),
      clients,
      { [RELEASE_LOCK_TABLE_ENVIRONMENT]: 'python-locks' },
      { getRemainingTimeInMillis: () => 600_000, functionName: 'release', awsRequestId: 'r1' },
    );

    // THEN
    const key = `${REGISTRY_HOST}/${REPOSITORY}`;
    expect(order).toEqual([`lock ${key}`, ...['1.2.3', '1.2', '1', 'latest', '20250304'].map((t) => `put ${t}`), `unlock ${key}`]);
    expect(dynamo.commandCalls(PutItemCommand)[0].args[0].input.TableName).toBe('python-locks');
    expect(codepipeline.commandCalls(PutJobSuccessResultCommand)).toHaveLength(1);
  });

  test('GIVEN no lock table WHEN it releases THEN it makes no DynamoDB call', async () => {
    await runReleaseJob(jobEvent(params, { withInput: false }), clients, {});
    expect(dynamo.calls()).toHaveLength(0);
    expect(putTags()).toEqual(['1.2.3', '1.2', '1', 'latest', '20250304']);
  });
});

test('rules that give the build no tag fail the action before anything is promoted or tagged, and say what to set', async () => {
  // GIVEN the build only in staging, the semver rule alone, and no version
  ecr
    .on(BatchGetImageCommand, { repositoryName: REPOSITORY, imageIds: [{ imageTag: BUILD }] })
    .resolves({ images: [], failures: [{ failureCode: 'ImageNotFound' }] });
  tags({});

  // WHEN
  await runReleaseJob(jobEvent({ ...params, version: 'none', rules: ['semver'] }, { withInput: false }), clients);

  // THEN
  const message = codepipeline.commandCalls(PutJobFailureResultCommand)[0].args[0].input.failureDetails!.message;
  expect(message).toMatch(/^the release tag rules \(semver\) give build fedcba9876543210 no tag: the 'semver' rule needs a version/);
  expect(ecr.commandCalls(PutImageCommand)).toHaveLength(0);
});
