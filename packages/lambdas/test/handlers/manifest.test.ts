import { CodePipelineClient, PutJobFailureResultCommand, PutJobSuccessResultCommand } from '@aws-sdk/client-codepipeline';
import { BatchGetImageCommand, ECRClient, GetDownloadUrlForLayerCommand, PutImageCommand } from '@aws-sdk/client-ecr';
import { mockClient } from 'aws-sdk-client-mock';
import { runManifestJob } from '../../src/handlers/manifest';
import { REGISTRY_HOST, REPOSITORY, digestOf, imageManifest, jobEvent, noWait, quietLog, sdkError } from './job-fixtures';

const codepipeline = mockClient(CodePipelineClient);
const ecr = mockClient(ECRClient);
const BUILD = '0123456789abcdef';
const amd64 = imageManifest({ os: 'linux', architecture: 'amd64', rootfs: { type: 'layers', diff_ids: [] } });
const arm64 = imageManifest({ os: 'linux', architecture: 'arm64', variant: 'v8', rootfs: { type: 'layers', diff_ids: [] } });
const blobs = new Map([
  [digestOf(amd64.config), amd64.config],
  [digestOf(arm64.config), arm64.config],
]);
// ECR's layer URLs, answered from the blobs above.
const fetchBlob = (async (url: string) => {
  const bytes = blobs.get(new URL(url).searchParams.get('digest')!);
  return bytes ? new Response(bytes) : new Response('missing', { status: 404 });
}) as typeof fetch;
const clients = {
  codepipeline: new CodePipelineClient({ region: 'eu-west-1' }),
  ecr: new ECRClient({ region: 'eu-west-1' }),
  fetch: fetchBlob,
  retry: noWait,
  log: quietLog,
};
/** Prepare's input record of the build, as the pipeline passes it on. */
const INPUTS = `configuration@sha256:${'a'.repeat(64)} feature:ghcr.io/devcontainers/features/node:1@sha256:${'b'.repeat(64)}`;
const params = { registryHost: REGISTRY_HOST, repository: REPOSITORY, buildId: BUILD, platforms: ['linux/amd64', 'linux/arm64'], inputs: INPUTS };

function perArch(tag: string, manifest: string) {
  ecr
    .on(BatchGetImageCommand, { repositoryName: REPOSITORY, imageIds: [{ imageTag: tag }] })
    .resolves({ images: [{ imageId: { imageTag: tag, imageDigest: digestOf(manifest) }, imageManifest: manifest, imageManifestMediaType: 'application/vnd.oci.image.manifest.v1+json' }] });
}

beforeEach(() => {
  codepipeline.reset();
  ecr.reset();
  codepipeline.onAnyCommand().resolves({});
  ecr.on(BatchGetImageCommand).resolves({ images: [], failures: [{ failureCode: 'ImageNotFound' }] });
  ecr.on(GetDownloadUrlForLayerCommand).callsFake((input) => ({ downloadUrl: `https://layers.example/blob?digest=${input.layerDigest}`, layerDigest: input.layerDigest }));
  ecr.on(PutImageCommand).callsFake((input) => ({ image: { imageId: { imageDigest: input.imageDigest, imageTag: input.imageTag } } }));
  perArch(`${BUILD}-amd64`, amd64.manifest);
  perArch(`${BUILD}-arm64`, arm64.manifest);
});

test('puts an OCI image index <build> over the per-arch images, with their platforms, and outputs its digest', async () => {
  // WHEN
  await runManifestJob(jobEvent(params, { withInput: false }), clients);
  // THEN
  const put = ecr.commandCalls(PutImageCommand);
  expect(put).toHaveLength(1);
  const input = put[0].args[0].input;
  expect(input).toMatchObject({ repositoryName: REPOSITORY, imageTag: BUILD, imageManifestMediaType: 'application/vnd.oci.image.index.v1+json' });
  const index = JSON.parse(input.imageManifest!);
  expect(index.manifests).toEqual([
    { mediaType: 'application/vnd.oci.image.manifest.v1+json', digest: digestOf(amd64.manifest), size: amd64.manifest.length, platform: { architecture: 'amd64', os: 'linux' } },
    { mediaType: 'application/vnd.oci.image.manifest.v1+json', digest: digestOf(arm64.manifest), size: arm64.manifest.length, platform: { architecture: 'arm64', os: 'linux', variant: 'v8' } },
  ]);
  const success = codepipeline.commandCalls(PutJobSuccessResultCommand)[0].args[0].input;
  expect(success.outputVariables).toEqual({ IndexDigest: digestOf(input.imageManifest!) });
});

test('running the action twice puts the same index bytes (same digest)', async () => {
  await runManifestJob(jobEvent(params, { withInput: false, id: 'a' }), clients);
  await runManifestJob(jobEvent(params, { withInput: false, id: 'b' }), clients);
  const [first, second] = ecr.commandCalls(PutImageCommand).map((c) => c.args[0].input.imageManifest);
  expect(second).toBe(first);
});

test('a missing per-arch image fails the action and names the tag', async () => {
  ecr.on(BatchGetImageCommand, { repositoryName: REPOSITORY, imageIds: [{ imageTag: `${BUILD}-arm64` }] }).resolves({ images: [], failures: [{ failureCode: 'ImageNotFound' }] });
  await runManifestJob(jobEvent(params, { withInput: false }), clients);
  const message = codepipeline.commandCalls(PutJobFailureResultCommand)[0].args[0].input.failureDetails!.message;
  expect(message).toMatch(new RegExp(`${REPOSITORY}:${BUILD}-arm64 does not exist`));
  expect(ecr.commandCalls(PutImageCommand)).toHaveLength(0);
});

test('an image built for the wrong architecture fails the action before anything is put', async () => {
  perArch(`${BUILD}-arm64`, amd64.manifest);
  await runManifestJob(jobEvent(params, { withInput: false }), clients);
  const message = codepipeline.commandCalls(PutJobFailureResultCommand)[0].args[0].input.failureDetails!.message;
  expect(message).toMatch(/holds a linux\/amd64 image, but that tag is for linux\/arm64/);
  expect(ecr.commandCalls(PutImageCommand)).toHaveLength(0);
});

test('a throttled PutImage is retried and the index is put once it goes through', async () => {
  ecr
    .on(PutImageCommand)
    .rejectsOnce(sdkError('ThrottlingException'))
    .callsFake((input) => ({ image: { imageId: { imageDigest: input.imageDigest, imageTag: input.imageTag } } }));
  await runManifestJob(jobEvent(params, { withInput: false }), clients);
  expect(ecr.commandCalls(PutImageCommand)).toHaveLength(2);
  expect(codepipeline.commandCalls(PutJobSuccessResultCommand)).toHaveLength(1);
});
