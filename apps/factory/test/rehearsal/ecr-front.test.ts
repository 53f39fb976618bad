import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import {
  BatchCheckLayerAvailabilityCommand,
  BatchDeleteImageCommand,
  BatchGetImageCommand,
  CreateRepositoryCommand,
  DescribeImageScanFindingsCommand,
  DescribeImagesCommand,
  DescribeRepositoriesCommand,
  ECRClient,
  GetAuthorizationTokenCommand,
  GetDownloadUrlForLayerCommand,
  ListImagesCommand,
  PutAccountSettingCommand,
  PutImageCommand,
  StartImageScanCommand,
  type ImageIdentifier,
} from '@aws-sdk/client-ecr';
import { MEDIA_TYPES, OciRegistry, RegistryHttpError, sha256Digest } from '@devcontainer-factory/core';
import { startLocalRegistry, type LocalRegistry } from '@devcontainer-factory/testing';
import { EcrFront, type EcrAuthorizer, type EcrEvent, type EcrFrontProps } from '../../rehearsal/ecr-front';

const ACCOUNT = '111111111111';
const REGION = 'eu-west-1';
const ROLE = `arn:aws:iam::${ACCOUNT}:role/Release`;
const arn = (repository: string) => `arn:aws:ecr:${REGION}:${ACCOUNT}:repository/${repository}`;

jest.setTimeout(60_000);

/** An IAM model for tests: everything is allowed but what `deny` says no to. */
class TestAuthorizer implements EcrAuthorizer {
  deny: (action: string, resource: string) => boolean = () => false;
  async authorize(_principal: string, action: string, resource: string): Promise<{ allowed: boolean; why: string }> {
    const denied = this.deny(action, resource);
    return { allowed: !denied, why: denied ? `no identity-based policy allows the ${action} action` : 'an identity-based policy allows it' };
  }
}

interface Harness {
  readonly front: EcrFront;
  readonly authorizer: TestAuthorizer;
  readonly ecr: ECRClient;
  /** `localhost:<port>` of the front. */
  readonly host: string;
  readonly events: EcrEvent[];
  /** Moves the front's clock. */
  advance(ms: number): void;
  /** The registry password of a GetAuthorizationToken. */
  password(): Promise<string>;
  /** A client of the front's OCI endpoint with a token of GetAuthorizationToken. */
  oci(): Promise<OciRegistry>;
}

let upstream: LocalRegistry;
/** The upstream registry itself, to seed blobs and to check what was (not) written. */
let direct: OciRegistry;
const servers: Server[] = [];
const fronts: EcrFront[] = [];

beforeAll(async () => {
  upstream = await startLocalRegistry();
  direct = new OciRegistry({ host: upstream.host });
});

afterEach(async () => {
  for (const front of fronts.splice(0)) front.close();
  await Promise.all(
    servers.splice(0).map(
      (server) =>
        new Promise<void>((resolve) => {
          server.closeAllConnections();
          server.close(() => resolve());
        }),
    ),
  );
});

afterAll(async () => {
  await upstream?.stop();
});

/** A front over the test's registry behind an HTTP server that routes as the gateway does: JSON API calls (as ROLE) and everything else to the OCI endpoint. */
async function harness(props: Partial<EcrFrontProps> = {}): Promise<Harness> {
  const authorizer = new TestAuthorizer();
  const events: EcrEvent[] = [];
  let clock = Date.parse('2026-01-01T00:00:00Z');
  const front = new EcrFront({
    upstream: upstream.host,
    account: ACCOUNT,
    region: REGION,
    authorizer,
    now: () => new Date(clock),
    onEvent: (e) => events.push(e),
    ...props,
  });
  fronts.push(front);
  const server = createServer((req, res) => {
    const target = req.headers['x-amz-target'];
    if (req.method === 'POST' && typeof target === 'string') {
      const chunks: Buffer[] = [];
      req.on('data', (c: Buffer) => chunks.push(c));
      req.on('end', () => {
        void front.handleApi(target.split('.')[1], JSON.parse(Buffer.concat(chunks).toString('utf8') || '{}'), { arn: ROLE }).then((out) => {
          res.writeHead(out.status, out.headers);
          res.end(out.body);
        });
      });
      return;
    }
    void front.handleRegistry(req, res);
  });
  servers.push(server);
  await new Promise<void>((resolve) => server.listen(0, 'localhost', resolve));
  const host = `localhost:${(server.address() as AddressInfo).port}`;
  front.setPublicBaseUrl(`http://${host}`);
  const ecr = new ECRClient({
    endpoint: `http://${host}`,
    region: REGION,
    credentials: { accessKeyId: 'AKIATESTTESTTESTTEST', secretAccessKey: 'secret' },
    maxAttempts: 1,
  });
  const password = async () => {
    const out = await ecr.send(new GetAuthorizationTokenCommand({}));
    return Buffer.from(out.authorizationData![0].authorizationToken!, 'base64').toString('utf8').replace(/^AWS:/, '');
  };
  return {
    front,
    authorizer,
    ecr,
    host,
    events,
    advance: (ms) => (clock += ms),
    password,
    oci: async () => new OciRegistry({ host, username: 'AWS', password: await password(), retry: { retries: 0 } }),
  };
}

/** Pushes a config and a layer straight into the upstream registry; returns the bytes of an OCI image manifest over them, pretty-printed so that any re-serialisation would change its digest. */
async function seedImage(repository: string, seed: string): Promise<{ text: string; digest: string; layer: Buffer }> {
  const config = Buffer.from(JSON.stringify({ architecture: 'amd64', os: 'linux', seed }));
  const layer = Buffer.from(`layer of ${seed} ✓`);
  const c = await direct.pushBlob(repository, config);
  const l = await direct.pushBlob(repository, layer);
  const manifest = {
    schemaVersion: 2,
    mediaType: MEDIA_TYPES.ociManifest,
    config: { mediaType: 'application/vnd.oci.image.config.v1+json', ...c },
    layers: [{ mediaType: 'application/vnd.oci.image.layer.v1.tar+gzip', ...l }],
    annotations: { 'org.example.seed': `${seed} — é` },
  };
  const text = `${JSON.stringify(manifest, null, 3)}\n`;
  return { text, digest: sha256Digest(text), layer };
}

function indexOf(...images: { text: string; digest: string }[]): { text: string; digest: string } {
  const text = JSON.stringify({
    schemaVersion: 2,
    mediaType: MEDIA_TYPES.ociIndex,
    manifests: images.map((i, n) => ({
      mediaType: MEDIA_TYPES.ociManifest,
      digest: i.digest,
      size: Buffer.byteLength(i.text),
      platform: { os: 'linux', architecture: n === 0 ? 'amd64' : 'arm64' },
    })),
  });
  return { text, digest: sha256Digest(text) };
}

const put = (h: Harness, repositoryName: string, image: { text: string }, imageTag?: string) =>
  h.ecr.send(new PutImageCommand({ repositoryName, imageManifest: image.text, imageManifestMediaType: JSON.parse(image.text).mediaType, imageTag }));

describe('PutImage and BatchGetImage', () => {
  test('a manifest comes back with the exact bytes it was put with, under the digest of those bytes', async () => {
    // GIVEN
    const repo = 'devcontainers/builds/roundtrip';
    const h = await harness({ repositories: [repo] });
    const image = await seedImage(repo, 'roundtrip');
    // WHEN
    const putOut = await h.ecr.send(
      new PutImageCommand({
        repositoryName: repo,
        imageManifest: image.text,
        imageManifestMediaType: MEDIA_TYPES.ociManifest,
        imageTag: 'v1',
        imageDigest: image.digest,
      }),
    );
    const got = await h.ecr.send(
      new BatchGetImageCommand({
        repositoryName: repo,
        imageIds: [{ imageTag: 'v1' }, { imageTag: 'missing' }],
        acceptedMediaTypes: [MEDIA_TYPES.ociManifest],
      }),
    );
    // THEN
    expect(putOut.image?.imageId).toEqual({ imageDigest: image.digest, imageTag: 'v1' });
    expect(got.images).toHaveLength(1);
    expect(got.images![0].imageManifest).toBe(image.text);
    expect(got.images![0].imageId?.imageDigest).toBe(image.digest);
    expect(got.images![0].imageManifestMediaType).toBe(MEDIA_TYPES.ociManifest);
    expect(got.failures).toEqual([{ imageId: { imageTag: 'missing' }, failureCode: 'ImageNotFound', failureReason: 'Requested image not found' }]);
    // The upstream registry holds the same bytes under the same tag.
    expect((await direct.getManifest(repo, 'v1'))?.body.toString('utf8')).toBe(image.text);
    expect(h.front.calls.map((c) => [c.action, c.resource, c.allowed])).toEqual([
      ['ecr:PutImage', arn(repo), true],
      ['ecr:BatchGetImage', arn(repo), true],
    ]);
  });

  test('PutImage refuses what ECR refuses: a repeat, a wrong digest, missing layers or images, an unknown repository, a moved immutable tag', async () => {
    // GIVEN
    const repo = 'devcontainers/builds/refusals';
    const h = await harness({ repositories: [repo] });
    const image = await seedImage(repo, 'refusals');
    const other = await seedImage(repo, 'refusals-other');
    await put(h, repo, image, 'v1');
    const lacking = JSON.parse(image.text);
    lacking.layers[0].digest = sha256Digest('not uploaded');
    // WHEN / THEN
    await expect(put(h, repo, image, 'v1')).rejects.toMatchObject({ name: 'ImageAlreadyExistsException', $metadata: { httpStatusCode: 400 } });
    await expect(
      h.ecr.send(new PutImageCommand({ repositoryName: repo, imageManifest: image.text, imageTag: 'v2', imageDigest: sha256Digest('other') })),
    ).rejects.toMatchObject({
      name: 'ImageDigestDoesNotMatchException',
    });
    await expect(put(h, repo, { text: JSON.stringify(lacking) }, 'v3')).rejects.toMatchObject({
      name: 'LayersNotFoundException',
      message: expect.stringContaining(sha256Digest('not uploaded')),
    });
    await expect(put(h, repo, indexOf(image, other), 'index')).rejects.toMatchObject({
      name: 'ReferencedImagesNotFoundException',
      message: expect.stringContaining(other.digest),
    });
    await expect(put(h, 'devcontainers/images/none', image, 'v1')).rejects.toMatchObject({ name: 'RepositoryNotFoundException' });
    await h.ecr.send(new CreateRepositoryCommand({ repositoryName: 'devcontainers/images/frozen', imageTagMutability: 'IMMUTABLE' }));
    await seedImage('devcontainers/images/frozen', 'refusals');
    await seedImage('devcontainers/images/frozen', 'refusals-other');
    await put(h, 'devcontainers/images/frozen', image, '1.0.0');
    await expect(put(h, 'devcontainers/images/frozen', other, '1.0.0')).rejects.toMatchObject({ name: 'ImageTagAlreadyExistsException' });
    // Nothing of the refused pushes was written.
    expect((await direct.listTags(repo)).sort()).toEqual(['v1']);
    expect((await direct.getManifest('devcontainers/images/frozen', '1.0.0'))?.digest).toBe(image.digest);
  });
});

describe('ListImages', () => {
  test('paginates at maxResults with a nextToken until every tag and untagged image was listed once', async () => {
    // GIVEN three images: one with three tags, one with two, one whose tag moved away (untagged)
    const repo = 'devcontainers/builds/pages';
    const h = await harness({ repositories: [repo] });
    const [a, b, c] = [await seedImage(repo, 'a'), await seedImage(repo, 'b'), await seedImage(repo, 'c')];
    for (const tag of ['a1', 'a2', 'a3']) await put(h, repo, a, tag);
    for (const tag of ['b1', 'b2']) await put(h, repo, b, tag);
    await put(h, repo, c, 'moving');
    await put(h, repo, a, 'moving');
    // WHEN
    const pages: ImageIdentifier[][] = [];
    let nextToken: string | undefined;
    do {
      const out = await h.ecr.send(new ListImagesCommand({ repositoryName: repo, maxResults: 2, nextToken }));
      pages.push(out.imageIds ?? []);
      nextToken = out.nextToken;
    } while (nextToken && pages.length < 10);
    // THEN
    expect(pages.map((p) => p.length)).toEqual([2, 2, 2, 1]);
    const listed = pages.flat().map((id) => `${id.imageDigest}:${id.imageTag ?? ''}`);
    expect(new Set(listed).size).toBe(7);
    expect(listed.sort()).toEqual(
      [...['a1', 'a2', 'a3', 'moving'].map((t) => `${a.digest}:${t}`), ...['b1', 'b2'].map((t) => `${b.digest}:${t}`), `${c.digest}:`].sort(),
    );
    const untagged = await h.ecr.send(new ListImagesCommand({ repositoryName: repo, filter: { tagStatus: 'UNTAGGED' } }));
    expect(untagged.imageIds).toEqual([{ imageDigest: c.digest }]);
    const tagged = await h.ecr.send(new ListImagesCommand({ repositoryName: repo, filter: { tagStatus: 'TAGGED' }, maxResults: 1000 }));
    expect(tagged.imageIds).toHaveLength(6);
    expect(tagged.nextToken).toBeUndefined();
    await expect(h.ecr.send(new ListImagesCommand({ repositoryName: repo, maxResults: 1001 }))).rejects.toMatchObject({ name: 'InvalidParameterException' });
  });

  test('DescribeImages gives tags, push time, media type, size and scan status, and ImageNotFoundException for a tag it lacks', async () => {
    // GIVEN
    const repo = 'devcontainers/builds/describe';
    const h = await harness({ repositories: [repo], scanOnPush: () => true });
    const image = await seedImage(repo, 'describe');
    await put(h, repo, image, 'latest');
    // WHEN
    const out = await h.ecr.send(new DescribeImagesCommand({ repositoryName: repo, imageIds: [{ imageTag: 'latest' }] }));
    // THEN
    const detail = out.imageDetails![0];
    expect(detail).toMatchObject({
      imageDigest: image.digest,
      imageTags: ['latest'],
      imageManifestMediaType: MEDIA_TYPES.ociManifest,
      artifactMediaType: 'application/vnd.oci.image.config.v1+json',
      imageSizeInBytes: Buffer.byteLength('layer of describe ✓'),
      imageScanStatus: { status: 'COMPLETE' },
    });
    expect(detail.imagePushedAt?.toISOString()).toBe('2026-01-01T00:00:00.000Z');
    await expect(h.ecr.send(new DescribeImagesCommand({ repositoryName: repo, imageIds: [{ imageTag: 'buildcache-amd64' }] }))).rejects.toMatchObject({
      name: 'ImageNotFoundException',
    });
  });
});

describe('BatchDeleteImage', () => {
  test('refuses an image an index lists, removes a tag alone, and deletes an image with its last tag or with its index in one batch', async () => {
    // GIVEN images a (tags a1, a2) and b (tag b1), and an index over both (tag idx)
    const repo = 'devcontainers/builds/deletes';
    const h = await harness({ repositories: [repo] });
    const a = await seedImage(repo, 'del-a');
    const b = await seedImage(repo, 'del-b');
    const lone = await seedImage(repo, 'del-lone');
    const index = indexOf(a, b);
    await put(h, repo, a, 'a1');
    await put(h, repo, a, 'a2');
    await put(h, repo, b, 'b1');
    await put(h, repo, index, 'idx');
    await put(h, repo, lone, 'only');
    const tagsOf = async () =>
      Object.fromEntries(
        (await h.ecr.send(new ListImagesCommand({ repositoryName: repo, filter: { tagStatus: 'TAGGED' } }))).imageIds!.map((i) => [i.imageTag, i.imageDigest]),
      );

    // WHEN an image the index lists is deleted by digest
    const referenced = await h.ecr.send(new BatchDeleteImageCommand({ repositoryName: repo, imageIds: [{ imageDigest: a.digest }] }));
    // THEN ECR refuses
    expect(referenced.imageIds).toEqual([]);
    expect(referenced.failures).toEqual([expect.objectContaining({ imageId: { imageDigest: a.digest }, failureCode: 'ImageReferencedByManifestList' })]);
    expect(await tagsOf()).toEqual({ a1: a.digest, a2: a.digest, b1: b.digest, idx: index.digest, only: lone.digest });

    // WHEN one of two tags is deleted
    const untag = await h.ecr.send(new BatchDeleteImageCommand({ repositoryName: repo, imageIds: [{ imageTag: 'a1' }] }));
    // THEN only that tag goes; the image stays with the other
    expect(untag.imageIds).toEqual([{ imageDigest: a.digest, imageTag: 'a1' }]);
    expect(await tagsOf()).toEqual({ a2: a.digest, b1: b.digest, idx: index.digest, only: lone.digest });

    // WHEN the index and an image it lists go in one batch, index first, and an image by its last tag
    const batch = await h.ecr.send(
      new BatchDeleteImageCommand({
        repositoryName: repo,
        imageIds: [{ imageDigest: index.digest }, { imageDigest: a.digest }, { imageTag: 'only' }, { imageDigest: sha256Digest('gone') }],
      }),
    );
    // THEN all three are deleted, with their tags; the unknown digest is ImageNotFound
    expect(batch.imageIds).toEqual([
      { imageDigest: index.digest, imageTag: 'idx' },
      { imageDigest: a.digest, imageTag: 'a2' },
      { imageDigest: lone.digest, imageTag: 'only' },
    ]);
    expect(batch.failures).toEqual([
      { imageId: { imageDigest: sha256Digest('gone') }, failureCode: 'ImageNotFound', failureReason: 'Requested image not found' },
    ]);
    expect(await tagsOf()).toEqual({ b1: b.digest });
    const any = await h.ecr.send(new ListImagesCommand({ repositoryName: repo }));
    expect(any.imageIds).toEqual([{ imageDigest: b.digest, imageTag: 'b1' }]);
    expect(await direct.getManifest(repo, lone.digest)).toBeUndefined();
    expect(h.events.filter((e) => e.detail['action-type'] === 'DELETE').map((e) => e.detail['image-tag'])).toEqual(['a1', 'idx', 'a2', 'only']);
    await expect(
      h.ecr.send(new BatchDeleteImageCommand({ repositoryName: repo, imageIds: Array.from({ length: 101 }, (_, i) => ({ imageTag: `t${i}` })) })),
    ).rejects.toMatchObject({
      name: 'InvalidParameterException',
    });
  });
});

describe('authorization', () => {
  test('a denied PutImage is AccessDeniedException in AWS words, recorded as denied, and writes nothing', async () => {
    // GIVEN
    const repo = 'devcontainers/images/denied';
    const h = await harness({ repositories: [repo] });
    const image = await seedImage(repo, 'denied');
    h.authorizer.deny = (action) => action === 'ecr:PutImage';
    // WHEN
    const attempt = put(h, repo, image, 'latest');
    // THEN
    await expect(attempt).rejects.toMatchObject({
      name: 'AccessDeniedException',
      $metadata: { httpStatusCode: 400 },
      message: `User: ${ROLE} is not authorized to perform: ecr:PutImage on resource: ${arn(repo)} because no identity-based policy allows the ecr:PutImage action`,
    });
    expect(h.front.calls).toEqual([{ principal: ROLE, action: 'ecr:PutImage', resource: arn(repo), allowed: false }]);
    expect(await direct.listTags(repo)).toEqual([]);
    expect(await direct.getManifest(repo, image.digest)).toBeUndefined();
    expect(h.events).toEqual([]);
  });

  test('GetAuthorizationToken gives a password with which OciRegistry pushes and pulls through the OCI endpoint, each request authorized with the ECR action AWS checks', async () => {
    // GIVEN a repository that does not exist yet, under a creation template
    const repo = 'devcontainers/builds/pushed';
    const h = await harness({ creationTemplatePrefixes: ['devcontainers'] });
    const token = await h.ecr.send(new GetAuthorizationTokenCommand({}));
    const oci = await h.oci();
    // WHEN
    const pushed = await oci.pushImage(repo, 'amd64', { config: { architecture: 'amd64', os: 'linux' }, layers: [{ bytes: Buffer.from('a layer') }] });
    const pulled = await oci.getManifest(repo, 'amd64');
    const layer = await oci.getBlob(repo, pushed.manifest.layers[0].digest);
    const tags = await oci.listTags(repo);
    // THEN
    expect(token.authorizationData![0]).toMatchObject({ proxyEndpoint: `https://${ACCOUNT}.dkr.ecr.${REGION}.amazonaws.com` });
    expect(token.authorizationData![0].expiresAt?.toISOString()).toBe('2026-01-01T12:00:00.000Z');
    expect(Buffer.from(token.authorizationData![0].authorizationToken!, 'base64').toString('utf8')).toMatch(/^AWS:\S+$/);
    expect(pulled?.digest).toBe(pushed.digest);
    expect(layer.toString()).toBe('a layer');
    expect(tags).toEqual(['amd64']);
    expect((await direct.getManifest(repo, 'amd64'))?.digest).toBe(pushed.digest);
    const actions = h.front.calls.slice(1).map((c) => `${c.action} ${c.resource === arn(repo) ? 'repo' : c.resource}`);
    expect(h.front.calls.every((c) => c.principal === ROLE && c.allowed)).toBe(true);
    expect(h.front.calls[0]).toMatchObject({ action: 'ecr:GetAuthorizationToken', resource: '*' });
    expect(actions).toEqual([
      'ecr:GetAuthorizationToken *',
      // the config blob: checked, then a new upload (which creates the repository from the template), then its bytes
      'ecr:BatchCheckLayerAvailability repo',
      'ecr:InitiateLayerUpload repo',
      'ecr:CreateRepository repo',
      'ecr:UploadLayerPart repo',
      'ecr:CompleteLayerUpload repo',
      // the layer
      'ecr:BatchCheckLayerAvailability repo',
      'ecr:InitiateLayerUpload repo',
      'ecr:UploadLayerPart repo',
      'ecr:CompleteLayerUpload repo',
      'ecr:PutImage repo',
      'ecr:BatchGetImage repo',
      'ecr:GetDownloadUrlForLayer repo',
      'ecr:ListImages repo',
    ]);
    const described = await h.ecr.send(new DescribeRepositoriesCommand({ repositoryNames: [repo] }));
    expect(described.repositories![0]).toMatchObject({ repositoryName: repo, repositoryArn: arn(repo), imageTagMutability: 'MUTABLE' });
    expect(h.events.map((e) => [e['detail-type'], e.detail['action-type'], e.detail['repository-name'], e.detail['image-tag']])).toEqual([
      ['ECR Image Action', 'PUSH', repo, 'amd64'],
    ]);
  });

  test('the OCI endpoint challenges without credentials, refuses a made-up or foreign token, and says an expired one expired', async () => {
    // GIVEN
    const repo = 'devcontainers/images/guarded';
    const h = await harness({ repositories: [repo] });
    const other = await harness({ repositories: [repo] });
    const foreign = await other.password();
    const fresh = await h.oci();
    const callsBefore = h.front.calls.length;
    // WHEN / THEN: no credentials
    const bare = await fetch(`http://${h.host}/v2/${repo}/tags/list`);
    expect(bare.status).toBe(401);
    expect(bare.headers.get('www-authenticate')).toBe(`Basic realm="https://${ACCOUNT}.dkr.ecr.${REGION}.amazonaws.com/",service="ecr.amazonaws.com"`);
    // a made-up password, and a token of another front
    const madeUp = new OciRegistry({ host: h.host, username: 'AWS', password: 'eyJwIjoiYXJuOmF3czppYW0', retry: { retries: 0 } });
    await expect(madeUp.listTags(repo)).rejects.toMatchObject({ status: 401 });
    const stolen = new OciRegistry({ host: h.host, username: 'AWS', password: foreign, retry: { retries: 0 } });
    await expect(stolen.listTags(repo)).rejects.toBeInstanceOf(RegistryHttpError);
    expect(h.front.calls.length).toBe(callsBefore);
    // the right token works, until it is 12 hours old
    expect(await fresh.listTags(repo)).toEqual([]);
    h.advance(12 * 60 * 60 * 1000);
    await expect(fresh.listTags(repo)).rejects.toMatchObject({ status: 403, message: expect.stringContaining('Your authorization token has expired') });
  });

  test('a denied request of the OCI endpoint is 403 DENIED in AWS words, and the push does not happen', async () => {
    // GIVEN
    const repo = 'devcontainers/images/readonly';
    const h = await harness({ repositories: [repo] });
    h.authorizer.deny = (action) => action === 'ecr:InitiateLayerUpload';
    const oci = await h.oci();
    // WHEN
    const attempt = oci.pushBlob(repo, Buffer.from('forbidden bytes'));
    // THEN
    await expect(attempt).rejects.toMatchObject({
      status: 403,
      message: expect.stringContaining(`is not authorized to perform: ecr:InitiateLayerUpload on resource: ${arn(repo)}`),
    });
    expect(await direct.hasBlob(repo, sha256Digest('forbidden bytes'))).toBe(false);
  });
});

describe('blob mounting', () => {
  test('mounts across repositories when BLOB_MOUNTING is ENABLED and the caller may read the source, and uploads otherwise', async () => {
    // GIVEN an image in staging
    const staging = 'devcontainers/builds/mount';
    const release = 'devcontainers/images/mount';
    const h = await harness({ repositories: [staging, release] });
    const oci = await h.oci();
    const pushed = await oci.pushImage(staging, 'build', { config: { os: 'linux', architecture: 'arm64' }, layers: [{ bytes: Buffer.from('mounted layer') }] });
    const [config, layer] = [pushed.manifest.config, pushed.manifest.layers[0]];
    // WHEN blob mounting is off (ECR's default)
    const copied = await oci.copyBlob(staging, release, config.digest, config.size);
    // THEN the registry opened an upload and the bytes were copied
    expect(copied).toBe('copied');
    // WHEN it is switched on, as the warehouse's custom resource does
    await h.ecr.send(new PutAccountSettingCommand({ name: 'BLOB_MOUNTING', value: 'ENABLED' }));
    const start = h.front.calls.length;
    const mounted = await oci.copyBlob(staging, release, layer.digest, layer.size);
    // THEN the layer is mounted, and reading the source was authorized
    expect(mounted).toBe('mounted');
    expect(await direct.getBlob(release, layer.digest)).toEqual(Buffer.from('mounted layer'));
    expect(h.front.calls.slice(start).map((c) => `${c.action} ${c.resource}`)).toEqual([
      `ecr:BatchCheckLayerAvailability ${arn(release)}`,
      `ecr:InitiateLayerUpload ${arn(release)}`,
      `ecr:GetDownloadUrlForLayer ${arn(staging)}`,
    ]);
  });
});

describe('scanning', () => {
  test('DescribeImageScanFindings reports the findings of a repository scanned on push, and ScanNotFoundException where nothing was scanned', async () => {
    // GIVEN
    const scanned = 'devcontainers/builds/scanned';
    const plain = 'other/unscanned';
    const h = await harness({
      repositories: [scanned, plain],
      scanOnPush: (r) => r.startsWith('devcontainers/'),
      findings: (r) => (r === scanned ? { findings: [{ name: 'CVE-2026-0001', severity: 'HIGH', uri: 'https://example.com/CVE-2026-0001' }] } : undefined),
    });
    const image = await seedImage(scanned, 'scan');
    await seedImage(plain, 'scan');
    await put(h, scanned, image, 'x');
    await put(h, plain, image, 'x');
    // WHEN
    const report = await h.ecr.send(new DescribeImageScanFindingsCommand({ repositoryName: scanned, imageId: { imageDigest: image.digest } }));
    const none = h.ecr.send(new DescribeImageScanFindingsCommand({ repositoryName: plain, imageId: { imageTag: 'x' } }));
    // THEN
    expect(report.imageScanStatus?.status).toBe('COMPLETE');
    expect(report.imageScanFindings?.findings).toEqual([{ name: 'CVE-2026-0001', severity: 'HIGH', uri: 'https://example.com/CVE-2026-0001' }]);
    expect(report.imageScanFindings?.findingSeverityCounts).toEqual({ HIGH: 1 });
    await expect(none).rejects.toMatchObject({ name: 'ScanNotFoundException' });
    expect(h.events.filter((e) => e['detail-type'] === 'ECR Image Scan').map((e) => e.detail['repository-name'])).toEqual([scanned]);
    // A manual scan of the unscanned image is then reported (an empty scan), and a second within 24 hours is refused.
    await h.ecr.send(new StartImageScanCommand({ repositoryName: plain, imageId: { imageTag: 'x' } }));
    expect((await h.ecr.send(new DescribeImageScanFindingsCommand({ repositoryName: plain, imageId: { imageTag: 'x' } }))).imageScanFindings?.findings).toEqual(
      [],
    );
    await expect(h.ecr.send(new StartImageScanCommand({ repositoryName: plain, imageId: { imageTag: 'x' } }))).rejects.toMatchObject({
      name: 'LimitExceededException',
    });
  });
});

describe('layers', () => {
  test("GetDownloadUrlForLayer's URL serves the blob's bytes with no credentials, until it expires or is altered", async () => {
    // GIVEN
    const repo = 'devcontainers/builds/layers';
    const h = await harness({ repositories: [repo] });
    const image = await seedImage(repo, 'download');
    // WHEN
    const out = await h.ecr.send(new GetDownloadUrlForLayerCommand({ repositoryName: repo, layerDigest: sha256Digest(image.layer) }));
    const res = await fetch(out.downloadUrl!);
    // THEN
    expect(out.downloadUrl).toMatch(new RegExp(`^http://${h.host}/`));
    expect(res.status).toBe(200);
    expect(Buffer.from(await res.arrayBuffer())).toEqual(image.layer);
    const tampered = out.downloadUrl!.replace(/.$/, (c) => (c === 'A' ? 'B' : 'A'));
    expect((await fetch(tampered)).status).toBe(403);
    h.advance(60 * 60 * 1000);
    expect((await fetch(out.downloadUrl!)).status).toBe(403);
    await expect(h.ecr.send(new GetDownloadUrlForLayerCommand({ repositoryName: repo, layerDigest: sha256Digest('absent') }))).rejects.toMatchObject({
      name: 'LayersNotFoundException',
    });
    const check = await h.ecr.send(
      new BatchCheckLayerAvailabilityCommand({ repositoryName: repo, layerDigests: [sha256Digest(image.layer), sha256Digest('absent')] }),
    );
    expect(check.layers).toEqual([{ layerDigest: sha256Digest(image.layer), layerAvailability: 'AVAILABLE', layerSize: image.layer.length }]);
    expect(check.failures).toEqual([{ layerDigest: sha256Digest('absent'), failureCode: 'MissingLayerDigest', failureReason: 'Could not find layer' }]);
  });
});

describe('referrers', () => {
  test('the OCI referrers API lists the manifests whose subject is an image, which the CNCF registry itself does not serve', async () => {
    // GIVEN an image and an SBOM about it, put by digest only
    const repo = 'devcontainers/builds/referrers';
    const h = await harness({ repositories: [repo] });
    const image = await seedImage(repo, 'subject');
    await put(h, repo, image, 'build-amd64');
    const sbom = await direct.pushBlob(repo, Buffer.from('{"bomFormat":"CycloneDX"}'));
    const empty = await direct.pushBlob(repo, Buffer.from('{}'));
    const artifact = JSON.stringify({
      schemaVersion: 2,
      mediaType: MEDIA_TYPES.ociManifest,
      artifactType: 'application/vnd.cyclonedx+json',
      config: { mediaType: 'application/vnd.oci.empty.v1+json', ...empty },
      layers: [{ mediaType: 'application/vnd.cyclonedx+json', ...sbom }],
      subject: { mediaType: MEDIA_TYPES.ociManifest, digest: image.digest, size: Buffer.byteLength(image.text) },
    });
    await put(h, repo, { text: artifact });
    const oci = await h.oci();
    // WHEN
    const referrers = await oci.referrers(repo, image.digest);
    const upstreamReferrers = await direct.referrers(repo, image.digest);
    // THEN
    expect(upstreamReferrers).toBeUndefined();
    expect(referrers).toEqual([
      { mediaType: MEDIA_TYPES.ociManifest, digest: sha256Digest(artifact), size: Buffer.byteLength(artifact), artifactType: 'application/vnd.cyclonedx+json' },
    ]);
    expect(await oci.referrers(repo, sha256Digest(artifact))).toEqual([]);
    expect(h.front.calls.at(-1)).toMatchObject({ action: 'ecr:BatchGetImage', resource: arn(repo) });
  });
});
