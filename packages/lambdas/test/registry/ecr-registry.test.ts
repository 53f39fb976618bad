import {
  BatchGetImageCommand,
  ECRClient,
  ECRServiceException,
  GetDownloadUrlForLayerCommand,
  ImageAlreadyExistsException,
  ImageTagAlreadyExistsException,
  LayersNotFoundException,
  ListImagesCommand,
  PutImageCommand,
  RepositoryNotFoundException,
} from '@aws-sdk/client-ecr';
import { mockClient } from 'aws-sdk-client-mock';
import { sha256Digest, MANIFEST_MEDIA_TYPES, MEDIA_TYPES, RegistryError } from '@devcontainer-factory/core';
import { EcrRegistry } from '../../src/registry/ecr-registry';

const ecr = mockClient(ECRClient);
const REPO = 'devcontainers/images/python';
const HOST = '123456789012.dkr.ecr.eu-west-1.amazonaws.com';
// Key order and spacing matter: the digest is of these exact bytes.
const MANIFEST = '{"schemaVersion":2,"mediaType":"application/vnd.oci.image.index.v1+json","manifests":[] }';
const metadata = { httpStatusCode: 400, attempts: 1, totalRetryDelay: 0 };

function throttling(): ECRServiceException {
  return new ECRServiceException({ name: 'ThrottlingException', $fault: 'client', $metadata: metadata, message: 'Rate exceeded' });
}

/** An EcrRegistry whose retries do not wait; `delays` records the waits it asked for. */
function makeRegistry(fetchFn?: typeof fetch) {
  const delays: number[] = [];
  const registry = new EcrRegistry({
    client: new ECRClient({ region: 'eu-west-1' }),
    registryId: '123456789012',
    host: HOST,
    fetch: fetchFn,
    retry: { sleep: async (ms) => void delays.push(ms), random: () => 0.5 },
  });
  return { registry, delays };
}

beforeEach(() => ecr.reset());

describe('EcrRegistry.getManifest', () => {
  test('GIVEN a tagged image WHEN its manifest is read THEN the exact bytes, their digest and media type come back', async () => {
    // GIVEN
    const digest = sha256Digest(MANIFEST);
    ecr.on(BatchGetImageCommand).resolves({
      images: [{ imageId: { imageDigest: digest, imageTag: 'latest' }, imageManifest: MANIFEST, imageManifestMediaType: MEDIA_TYPES.ociIndex }],
    });
    const { registry } = makeRegistry();

    // WHEN
    const stored = await registry.getManifest(REPO, 'latest');

    // THEN
    expect(stored).toEqual({ digest, mediaType: MEDIA_TYPES.ociIndex, body: Buffer.from(MANIFEST) });
    expect(ecr.commandCalls(BatchGetImageCommand)[0].args[0].input).toEqual({
      registryId: '123456789012',
      repositoryName: REPO,
      imageIds: [{ imageTag: 'latest' }],
      acceptedMediaTypes: [...MANIFEST_MEDIA_TYPES],
    });
  });

  test('GIVEN a digest reference WHEN read THEN ECR is asked by imageDigest', async () => {
    // GIVEN
    const digest = sha256Digest(MANIFEST);
    ecr
      .on(BatchGetImageCommand)
      .resolves({ images: [{ imageId: { imageDigest: digest }, imageManifest: MANIFEST, imageManifestMediaType: MEDIA_TYPES.ociIndex }] });
    const { registry } = makeRegistry();

    // WHEN
    await registry.getManifest(REPO, digest);

    // THEN
    expect(ecr.commandCalls(BatchGetImageCommand)[0].args[0].input.imageIds).toEqual([{ imageDigest: digest }]);
  });

  test('GIVEN ECR answers ImageNotFound or RepositoryNotFoundException WHEN read THEN the manifest is undefined', async () => {
    // GIVEN
    const { registry } = makeRegistry();
    ecr.on(BatchGetImageCommand, { imageIds: [{ imageTag: 'gone' }] }).resolves({
      images: [],
      failures: [{ imageId: { imageTag: 'gone' }, failureCode: 'ImageNotFound', failureReason: 'Requested image not found' }],
    });
    ecr
      .on(BatchGetImageCommand, { repositoryName: 'devcontainers/images/none' })
      .rejects(new RepositoryNotFoundException({ $metadata: metadata, message: 'The repository does not exist' }));

    // WHEN / THEN
    expect(await registry.getManifest(REPO, 'gone')).toBeUndefined();
    expect(await registry.getManifest('devcontainers/images/none', 'latest')).toBeUndefined();
  });

  test('GIVEN ECR throttles twice WHEN a manifest is read THEN it is retried with jittered exponential backoff and succeeds', async () => {
    // GIVEN
    const digest = sha256Digest(MANIFEST);
    ecr
      .on(BatchGetImageCommand)
      .rejectsOnce(throttling())
      .rejectsOnce(throttling())
      .resolves({ images: [{ imageId: { imageDigest: digest }, imageManifest: MANIFEST, imageManifestMediaType: MEDIA_TYPES.ociIndex }] });
    const { registry, delays } = makeRegistry();

    // WHEN
    const stored = await registry.getManifest(REPO, 'latest');

    // THEN
    expect(stored?.digest).toBe(digest);
    expect(ecr.commandCalls(BatchGetImageCommand)).toHaveLength(3);
    expect(delays).toEqual([100, 200]);
  });

  test('GIVEN ECR keeps throttling WHEN a manifest is read THEN it gives up after 5 retries with the throttling error as cause', async () => {
    // GIVEN
    ecr.on(BatchGetImageCommand).rejects(throttling());
    const { registry, delays } = makeRegistry();

    // WHEN
    const reading = registry.getManifest(REPO, 'latest');

    // THEN
    await expect(reading).rejects.toThrow(/ECR BatchGetImage of devcontainers\/images\/python:latest failed: ThrottlingException: Rate exceeded/);
    await expect(reading).rejects.toMatchObject({ cause: { name: 'ThrottlingException' } });
    expect(ecr.commandCalls(BatchGetImageCommand)).toHaveLength(6);
    expect(delays).toHaveLength(5);
  });

  test('GIVEN access is denied WHEN a manifest is read THEN a RegistryError keeps the SDK error as cause and nothing is retried', async () => {
    // GIVEN
    const denied = new ECRServiceException({
      name: 'AccessDeniedException',
      $fault: 'client',
      $metadata: metadata,
      message: 'not authorized to perform ecr:BatchGetImage',
    });
    ecr.on(BatchGetImageCommand).rejects(denied);
    const { registry } = makeRegistry();

    // WHEN
    const error = await registry.getManifest(REPO, 'latest').catch((e: unknown) => e);

    // THEN
    expect(error).toBeInstanceOf(RegistryError);
    expect((error as RegistryError).message).toMatch(/AccessDeniedException: not authorized to perform ecr:BatchGetImage/);
    expect((error as RegistryError).cause).toBe(denied);
    expect(ecr.commandCalls(BatchGetImageCommand)).toHaveLength(1);
  });

  test('GIVEN a KMS failure for the image WHEN read THEN it fails with the failure code instead of reporting a missing image', async () => {
    // GIVEN
    ecr
      .on(BatchGetImageCommand)
      .resolves({ images: [], failures: [{ imageId: { imageTag: 'latest' }, failureCode: 'KmsError', failureReason: 'key disabled' }] });
    const { registry } = makeRegistry();

    // WHEN / THEN
    await expect(registry.getManifest(REPO, 'latest')).rejects.toThrow(/KmsError: key disabled/);
  });

  test('GIVEN ECR returns bytes that do not hash to the image digest WHEN read THEN it fails instead of returning them', async () => {
    // GIVEN
    ecr.on(BatchGetImageCommand).resolves({ images: [{ imageId: { imageDigest: `sha256:${'a'.repeat(64)}` }, imageManifest: MANIFEST }] });
    const { registry } = makeRegistry();

    // WHEN / THEN
    await expect(registry.getManifest(REPO, 'latest')).rejects.toThrow(/whose bytes hash to sha256:[a-f0-9]{64}, not sha256:a{64}/);
  });
});

describe('EcrRegistry.putManifest', () => {
  test('GIVEN manifest bytes WHEN put under a tag THEN PutImage gets the same string, media type, tag and the sha256 of the bytes', async () => {
    // GIVEN
    const digest = sha256Digest(MANIFEST);
    ecr.on(PutImageCommand).resolves({ image: { imageId: { imageDigest: digest, imageTag: '1.2.3' } } });
    const { registry } = makeRegistry();

    // WHEN
    const put = await registry.putManifest(REPO, '1.2.3', MEDIA_TYPES.ociIndex, Buffer.from(MANIFEST));

    // THEN
    expect(put).toBe(digest);
    expect(ecr.commandCalls(PutImageCommand)[0].args[0].input).toEqual({
      registryId: '123456789012',
      repositoryName: REPO,
      imageManifest: MANIFEST,
      imageManifestMediaType: MEDIA_TYPES.ociIndex,
      imageTag: '1.2.3',
      imageDigest: digest,
    });
  });

  test('GIVEN the tag already points at the manifest WHEN put THEN ImageAlreadyExistsException counts as success', async () => {
    // GIVEN
    ecr.on(PutImageCommand).rejects(new ImageAlreadyExistsException({ $metadata: metadata, message: 'Image with digest ... and tag 1.2.3 already exists' }));
    const { registry } = makeRegistry();

    // WHEN
    const put = await registry.putManifest(REPO, '1.2.3', MEDIA_TYPES.ociIndex, Buffer.from(MANIFEST));

    // THEN
    expect(put).toBe(sha256Digest(MANIFEST));
  });

  test('GIVEN an immutable tag WHEN it is moved THEN the error says the tag is immutable and which tags must stay mutable', async () => {
    // GIVEN
    const immutable = new ImageTagAlreadyExistsException({ $metadata: metadata, message: "The image tag 'latest' already exists" });
    ecr.on(PutImageCommand).rejects(immutable);
    const { registry } = makeRegistry();

    // WHEN
    const putting = registry.putManifest(REPO, 'latest', MEDIA_TYPES.ociIndex, Buffer.from(MANIFEST));

    // THEN
    await expect(putting).rejects.toThrow(
      /the tag is immutable in this repository: a factory release repository never moves an X\.Y\.Z, and 'latest', X\.Y, X and date tags need a repository whose other tags are mutable/,
    );
    await expect(putting).rejects.toMatchObject({ cause: immutable });
  });

  test('GIVEN bytes that are not UTF-8 WHEN put THEN it fails before calling ECR, since the string would change the digest', async () => {
    // GIVEN
    const { registry } = makeRegistry();

    // WHEN / THEN
    await expect(registry.putManifest(REPO, 'latest', MEDIA_TYPES.ociIndex, Buffer.from([0x7b, 0xff, 0x7d]))).rejects.toThrow(/not valid UTF-8/);
    expect(ecr.commandCalls(PutImageCommand)).toHaveLength(0);
  });
});

describe('EcrRegistry.getBlob', () => {
  test('GIVEN a layer download URL WHEN a blob is read THEN its bytes are fetched from the URL and checked against the digest', async () => {
    // GIVEN
    const config = Buffer.from('{"architecture":"arm64","os":"linux"}');
    const digest = sha256Digest(config);
    ecr
      .on(GetDownloadUrlForLayerCommand)
      .resolves({ downloadUrl: 'https://prod-eu-west-1-starport-layer-bucket.s3.amazonaws.com/blob?sig=1', layerDigest: digest });
    const fetched: string[] = [];
    const { registry } = makeRegistry(async (url) => {
      fetched.push(String(url));
      return new Response(config);
    });

    // WHEN
    const bytes = await registry.getBlob(REPO, digest);

    // THEN
    expect(bytes.equals(config)).toBe(true);
    expect(fetched).toEqual(['https://prod-eu-west-1-starport-layer-bucket.s3.amazonaws.com/blob?sig=1']);
    expect(ecr.commandCalls(GetDownloadUrlForLayerCommand)[0].args[0].input).toEqual({ registryId: '123456789012', repositoryName: REPO, layerDigest: digest });
  });

  test('GIVEN a download that answers 503 once WHEN a blob is read THEN the download is retried', async () => {
    // GIVEN
    const config = Buffer.from('{}');
    ecr.on(GetDownloadUrlForLayerCommand).resolves({ downloadUrl: 'https://example.invalid/blob' });
    let calls = 0;
    const { registry } = makeRegistry(async () => (++calls === 1 ? new Response('busy', { status: 503 }) : new Response(config)));

    // WHEN
    const bytes = await registry.getBlob(REPO, sha256Digest(config));

    // THEN
    expect(bytes.equals(config)).toBe(true);
    expect(calls).toBe(2);
  });

  test('GIVEN a missing layer WHEN a blob is read THEN a RegistryError keeps LayersNotFoundException as cause', async () => {
    // GIVEN
    const missing = new LayersNotFoundException({ $metadata: metadata, message: 'The specified layers could not be found' });
    ecr.on(GetDownloadUrlForLayerCommand).rejects(missing);
    const { registry } = makeRegistry();

    // WHEN
    const reading = registry.getBlob(REPO, `sha256:${'b'.repeat(64)}`);

    // THEN
    await expect(reading).rejects.toThrow(/GetDownloadUrlForLayer of devcontainers\/images\/python@sha256:b{64} failed: LayersNotFoundException/);
    await expect(reading).rejects.toMatchObject({ cause: missing });
  });

  test('GIVEN downloaded bytes that do not match the digest WHEN a blob is read THEN it fails', async () => {
    // GIVEN
    ecr.on(GetDownloadUrlForLayerCommand).resolves({ downloadUrl: 'https://example.invalid/blob' });
    const { registry } = makeRegistry(async () => new Response('tampered'));

    // WHEN / THEN
    await expect(registry.getBlob(REPO, sha256Digest('original'))).rejects.toThrow(/hashes to sha256:/);
  });
});

describe('EcrRegistry.listTags / tagDigests', () => {
  test('GIVEN two pages of tagged images WHEN tags are listed THEN every tag comes back with its digest', async () => {
    // GIVEN
    const d1 = `sha256:${'1'.repeat(64)}`;
    const d2 = `sha256:${'2'.repeat(64)}`;
    ecr
      .on(ListImagesCommand)
      .resolvesOnce({
        imageIds: [
          { imageDigest: d1, imageTag: '1.2.3' },
          { imageDigest: d1, imageTag: 'latest' },
        ],
        nextToken: 'page-2',
      })
      .resolvesOnce({ imageIds: [{ imageDigest: d2, imageTag: 'abc-amd64' }] });
    const { registry } = makeRegistry();

    // WHEN
    const tags = await registry.tagDigests(REPO);

    // THEN
    expect(Object.fromEntries(tags)).toEqual({ '1.2.3': d1, latest: d1, 'abc-amd64': d2 });
    const calls = ecr.commandCalls(ListImagesCommand).map((c) => c.args[0].input);
    expect(calls).toEqual([
      { registryId: '123456789012', repositoryName: REPO, filter: { tagStatus: 'TAGGED' }, maxResults: 1000, nextToken: undefined },
      { registryId: '123456789012', repositoryName: REPO, filter: { tagStatus: 'TAGGED' }, maxResults: 1000, nextToken: 'page-2' },
    ]);
  });

  test('GIVEN no repository WHEN tags are listed THEN the list is empty', async () => {
    // GIVEN
    ecr.on(ListImagesCommand).rejects(new RepositoryNotFoundException({ $metadata: metadata, message: 'The repository does not exist' }));
    const { registry } = makeRegistry();

    // WHEN / THEN
    expect(await registry.listTags(REPO)).toEqual([]);
  });

  // Each mock ends its pages after 50 calls, so that the old, unbounded loop stops too (and fails the test).
  test.each([
    ['a nextToken that repeats', (call: number) => (call < 50 ? 'same-token' : undefined), {}, /does not end: page 2 gives a nextToken already used/, 2],
    [
      'a new nextToken on every page',
      (call: number) => (call < 50 ? `token-${call}` : undefined),
      { maxListPages: 3 },
      /runs past 3 pages \(maxListPages\)/,
      3,
    ],
  ])(
    'GIVEN ECR answers with %s WHEN tags are listed THEN it stops with a RegistryError instead of paging on',
    async (_what, tokenOf, props, message, calls) => {
      // GIVEN
      let call = 0;
      ecr
        .on(ListImagesCommand)
        .callsFake(async () => ({ imageIds: [{ imageDigest: `sha256:${'1'.repeat(64)}`, imageTag: `t${call}` }], nextToken: tokenOf(++call) }));
      const registry = new EcrRegistry({ client: new ECRClient({ region: 'eu-west-1' }), host: HOST, ...props });

      // WHEN
      const error = await registry.listTags(REPO).catch((e: unknown) => e);

      // THEN
      expect(error).toBeInstanceOf(RegistryError);
      expect((error as Error).message).toMatch(message);
      expect(ecr.commandCalls(ListImagesCommand)).toHaveLength(calls);
    },
  );
});
