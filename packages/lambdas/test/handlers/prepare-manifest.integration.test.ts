import { CodePipelineClient, PutJobSuccessResultCommand } from '@aws-sdk/client-codepipeline';
import { CreateBucketCommand, GetObjectCommand, HeadObjectCommand, PutObjectCommand, S3Client } from '@aws-sdk/client-s3';
import { mockClient } from 'aws-sdk-client-mock';
import { CONFIGURATION_ARTIFACT_TYPE, MAX_BUILD_INPUTS, indexInputRecord, referrersTag } from '@devcontainer-factory/core';
import { runManifestJob } from '../../src/handlers/manifest';
import { runPrepareJob } from '../../src/handlers/prepare';
import { MemoryEcr } from '../support/memory-ecr';
import { MOTO_CLIENT_CONFIG, startMotoServer, type MotoServer } from '../support/moto-server';
import {
  ARTIFACT_BUCKET,
  ARTIFACT_KEY,
  INPUTS_ARTIFACT,
  REGISTRY_HOST,
  REPOSITORY,
  SOURCE_ARTIFACT,
  configZip,
  digestOf,
  imageManifest,
  jobEvent,
  noWait,
  quietLog,
} from './job-fixtures';

// Prepare and Manifest in the order the pipeline runs them, at the most inputs a build may
// have, with their artifacts in a real S3 API (moto_server): Prepare writes the build's
// input record as its output artifact (SSE-KMS with the artifact store's key, with the
// job's artifact credentials), Manifest reads it and the source artifact back, puts the
// index with every input, and keeps the uploaded zip beside it.

jest.setTimeout(60_000);
const codepipeline = mockClient(CodePipelineClient);
const STAGING = 'devcontainers/builds/python';
let moto: MotoServer;
let s3: S3Client;

beforeAll(async () => {
  moto = await startMotoServer();
  s3 = new S3Client({ ...MOTO_CLIENT_CONFIG, endpoint: moto.endpoint, forcePathStyle: true });
  await s3.send(new CreateBucketCommand({ Bucket: ARTIFACT_BUCKET, CreateBucketConfiguration: { LocationConstraint: 'eu-west-1' } }));
});
afterAll(async () => {
  s3?.destroy();
  await moto?.stop();
});
beforeEach(() => {
  codepipeline.reset();
  codepipeline.onAnyCommand().resolves({});
});

/**
 * A configuration that names the most inputs a build may have: a base image, pinned by
 * digest (no registry is asked), and features, each pinned to a manifest in the factory's
 * registry that carries its definition as `devcontainer features publish` writes it
 * (Prepare reads it to check the options given).
 */
function fullConfiguration(ecr: MemoryEcr): Uint8Array {
  const features = Object.fromEntries(
    Array.from({ length: MAX_BUILD_INPUTS - 1 }, (_, i) => {
      const repository = `devcontainers/features/feature-number-${i}`;
      const definition = { id: `feature-number-${i}`, version: '1.0.0', options: { version: { type: 'string', default: 'latest' } } };
      const manifest = JSON.stringify({
        schemaVersion: 2,
        mediaType: 'application/vnd.oci.image.manifest.v1+json',
        config: { mediaType: 'application/vnd.devcontainers', digest: digestOf('{}'), size: 2 },
        layers: [{ mediaType: 'application/vnd.devcontainers.layer.v1+tar', digest: digestOf(`layer ${i}`), size: 10 }],
        annotations: { 'dev.containers.metadata': JSON.stringify(definition) },
      });
      return [`${REGISTRY_HOST}/${repository}@${ecr.put(repository, manifest, 'application/vnd.oci.image.manifest.v1+json')}`, { version: '1.2' }];
    }),
  );
  return configZip(
    JSON.stringify({
      image: `mcr.microsoft.com/devcontainers/base@sha256:${'a'.repeat(64)}`,
      features,
      customizations: { 'devcontainer-factory': { version: '1.0.0' } },
    }),
  );
}

test('GIVEN a configuration with 64 inputs WHEN Prepare then Manifest run THEN the record goes through the inputs artifact, and the index records every input and keeps the zip', async () => {
  const ecr = new MemoryEcr(REGISTRY_HOST);
  const zip = fullConfiguration(ecr);
  await s3.send(new PutObjectCommand({ Bucket: ARTIFACT_BUCKET, Key: SOURCE_ARTIFACT.location.s3Location.objectKey, Body: zip }));
  const seen: string[] = [];
  const clients = {
    codepipeline: new CodePipelineClient({ region: 'eu-west-1' }),
    ecr: ecr.client,
    fetch: ecr.fetch,
    retry: noWait,
    log: quietLog,
    // The job's artifact credentials sign the S3 calls (moto takes any).
    s3ClientFor: (credentials: { accessKeyId: string }) => {
      seen.push(credentials.accessKeyId);
      return new S3Client({ ...MOTO_CLIENT_CONFIG, endpoint: moto.endpoint, forcePathStyle: true });
    },
  };

  // WHEN Prepare runs
  const prepareParams = { registryHost: REGISTRY_HOST, repository: REPOSITORY, baseRepositories: [], namespace: 'devcontainers' };
  const prepared = await runPrepareJob(jobEvent(prepareParams, { inputs: [SOURCE_ARTIFACT], outputs: [INPUTS_ARTIFACT] }), clients);
  expect(prepared.status).toBe('succeeded');
  const variables = codepipeline.commandCalls(PutJobSuccessResultCommand)[0].args[0].input.outputVariables!;
  const buildId = variables.BuildId;
  // THEN the record is in the inputs artifact, encrypted with the artifact store's key
  const head = await s3.send(new HeadObjectCommand({ Bucket: ARTIFACT_BUCKET, Key: INPUTS_ARTIFACT.location.s3Location.objectKey }));
  expect(head).toMatchObject({ ServerSideEncryption: 'aws:kms', SSEKMSKeyId: ARTIFACT_KEY });
  // AND the short values stay output variables
  expect(variables).toMatchObject({ Released: 'false', Version: '1.0.0' });
  expect(buildId).toMatch(/^[0-9a-f]{16}$/);

  // WHEN Build pushed the per-arch images and Manifest runs with both artifacts
  for (const arch of ['amd64', 'arm64']) {
    const image = imageManifest({ os: 'linux', architecture: arch, ...(arch === 'arm64' && { variant: 'v8' }), rootfs: { type: 'layers', diff_ids: [] } });
    ecr.put(STAGING, image.manifest, 'application/vnd.oci.image.manifest.v1+json', `${buildId}-${arch}`);
    ecr.putBlob(STAGING, image.config);
  }
  const manifestParams = {
    registryHost: REGISTRY_HOST,
    repository: STAGING,
    buildId,
    platforms: ['linux/amd64', 'linux/arm64'],
    sourceArtifact: 'Source',
    inputsArtifact: 'Inputs',
  };
  // Manifest's UserParameters hold no record: with a 64-character host, far below CodePipeline's 1,000 characters of a configuration value.
  expect(JSON.stringify({ ...manifestParams, registryHost: 'x'.repeat(64) }).length).toBeLessThan(300);
  const manifested = await runManifestJob(jobEvent(manifestParams, { inputs: [SOURCE_ARTIFACT, INPUTS_ARTIFACT], outputs: [] }), clients);

  // THEN the index records every input with its digest
  expect(manifested.status).toBe('succeeded');
  const index = ecr.manifest(STAGING, buildId)!;
  const record = indexInputRecord(Buffer.from(index.body), 'the index')!;
  expect(record.configuration).toBe(digestOf(zip));
  expect(record.inputs).toHaveLength(MAX_BUILD_INPUTS);
  expect(record.inputs.every((i) => /^sha256:[0-9a-f]{64}$/.test(i.digest))).toBe(true);
  // AND the uploaded zip is kept beside it, byte for byte as the source artifact holds it
  const fallback = JSON.parse(ecr.manifest(STAGING, referrersTag(index.digest))!.body);
  expect(fallback.manifests.map((m: { artifactType: string }) => m.artifactType)).toEqual([CONFIGURATION_ARTIFACT_TYPE]);
  const source = await s3.send(new GetObjectCommand({ Bucket: ARTIFACT_BUCKET, Key: SOURCE_ARTIFACT.location.s3Location.objectKey }));
  expect(ecr.blob(STAGING, digestOf(zip))).toEqual(Buffer.from(await source.Body!.transformToByteArray()));
  // Every artifact call signed with the job's artifact credentials.
  expect(new Set(seen)).toEqual(new Set(['AKIAEXAMPLE']));
});
