import { createHash, randomUUID } from 'node:crypto';
import {
  BatchDeleteImageCommand,
  BatchGetImageCommand,
  ECRClient,
  GetAuthorizationTokenCommand,
  GetDownloadUrlForLayerCommand,
  ListImagesCommand,
  PutImageCommand,
  type ImageFailure,
} from '@aws-sdk/client-ecr';
import { mockClient } from 'aws-sdk-client-mock';

const digestOf = (body: string | Uint8Array) => `sha256:${createHash('sha256').update(body).digest('hex')}`;
/** Where the layer URLs of `GetDownloadUrlForLayer` point. */
const LAYER_ORIGIN = 'https://layers.memory-ecr.invalid';
const INDEX_TYPES = ['application/vnd.oci.image.index.v1+json', 'application/vnd.docker.distribution.manifest.list.v2+json'];

/**
 * ECR's manifest API in memory, as the factory's `EcrRegistry` calls it, with the
 * request count per command: `ListImages` pages by `maxResults` (at most 1,000) with a
 * `nextToken`, `BatchGetImage`, `PutImage`, and `BatchDeleteImage` of up to 100 ids,
 * which removes every tag of an image and refuses one that a stored index references
 * (`ImageReferencedByManifestList`), as ECR does. Blobs too: `GetDownloadUrlForLayer`
 * gives a layer URL, and {@link MemoryEcr.fetch} answers it and ECR's OCI endpoint for
 * blob uploads (`HEAD` a blob, `POST` an upload, `PUT` its bytes), with the token of
 * `GetAuthorizationToken`.
 */
export class MemoryEcr {
  readonly client = new ECRClient({ region: 'eu-west-1', credentials: { accessKeyId: 'test', secretAccessKey: 'test' } });
  /** Requests per command name, e.g. `ListImagesCommand`. */
  readonly requests = new Map<string, number>();
  /** Runs before a command is answered (a test's chance to act between two requests). */
  beforeEach?: (command: string) => Promise<void> | void;
  private readonly repos = new Map<string, { tags: Map<string, string>; manifests: Map<string, { body: string; mediaType: string }> }>();
  private readonly blobs = new Map<string, Buffer>();
  /** Blob uploads through the OCI endpoint, in order. */
  readonly uploads: { repository: string; digest: string; size: number }[] = [];

  /**
   * @param host the registry host of the OCI endpoint {@link fetch} answers, e.g. `123456789012.dkr.ecr.eu-west-1.amazonaws.com`
   */
  constructor(readonly host = '123456789012.dkr.ecr.eu-west-1.amazonaws.com') {
    this.mock();
  }

  /** The `fetch` of the handlers: layer URLs, and ECR's OCI endpoint for blobs (anything else is 404). */
  readonly fetch = (async (input: string | URL | Request, init?: RequestInit) => {
    const url = new URL(typeof input === 'string' || input instanceof URL ? String(input) : input.url);
    const method = init?.method ?? 'GET';
    if (url.origin === LAYER_ORIGIN) {
      const blob = this.blobs.get(`${url.pathname.slice(1)}@${url.searchParams.get('digest')}`);
      return blob ? new Response(blob) : new Response('missing', { status: 404 });
    }
    if (url.host !== this.host) return new Response('not this registry', { status: 404 });
    const upload = /^\/v2\/(.+)\/blobs\/uploads\/([^/]*)$/.exec(url.pathname);
    if (upload && method === 'POST') return new Response(null, { status: 202, headers: { location: `/v2/${upload[1]}/blobs/uploads/${randomUUID()}` } });
    if (upload && method === 'PUT') {
      const bytes = Buffer.from(await new Response(init?.body as ConstructorParameters<typeof Response>[0]).arrayBuffer());
      const digest = url.searchParams.get('digest');
      if (digest !== digestOf(bytes)) return new Response('{"errors":[{"code":"DIGEST_INVALID"}]}', { status: 400 });
      this.putBlob(upload[1], bytes);
      this.uploads.push({ repository: upload[1], digest, size: bytes.length });
      return new Response(null, { status: 201, headers: { 'docker-content-digest': digest } });
    }
    const blob = /^\/v2\/(.+)\/blobs\/(sha256:[a-f0-9]{64})$/.exec(url.pathname);
    if (blob && (method === 'HEAD' || method === 'GET')) {
      const bytes = this.blobs.get(`${blob[1]}@${blob[2]}`);
      if (!bytes) return new Response(null, { status: 404 });
      return new Response(method === 'HEAD' ? null : bytes, {
        status: 200,
        headers: { 'content-length': String(bytes.length), 'docker-content-digest': blob[2] },
      });
    }
    return new Response('{"errors":[{"code":"UNSUPPORTED"}]}', { status: 404 });
  }) as typeof fetch;

  /** Stores a blob in a repository; returns its digest. */
  putBlob(repository: string, bytes: Uint8Array): string {
    const digest = digestOf(bytes);
    this.blobs.set(`${repository}@${digest}`, Buffer.from(bytes));
    return digest;
  }

  /** A blob of a repository; undefined when it has none. */
  blob(repository: string, digest: string): Buffer | undefined {
    return this.blobs.get(`${repository}@${digest}`);
  }

  /** A manifest of a repository by tag or digest; undefined when it has none. */
  manifest(repository: string, reference: string): { body: string; mediaType: string; digest: string } | undefined {
    const repo = this.repos.get(repository);
    const digest = reference.startsWith('sha256:') ? reference : repo?.tags.get(reference);
    const m = digest ? repo?.manifests.get(digest) : undefined;
    return m && digest ? { ...m, digest } : undefined;
  }

  private mock(): void {
    const mock = mockClient(this.client);
    const count = (name: string) => this.requests.set(name, (this.requests.get(name) ?? 0) + 1);
    const hook = async (name: string) => {
      count(name);
      await this.beforeEach?.(name);
    };
    mock.on(ListImagesCommand).callsFake(async (input) => {
      await hook('ListImagesCommand');
      const all = [...(this.repos.get(input.repositoryName)?.tags ?? [])].sort(([a], [b]) => (a < b ? -1 : 1));
      const start = input.nextToken ? Number(input.nextToken) : 0;
      const size = Math.min(input.maxResults ?? 100, 1000);
      const page = all.slice(start, start + size);
      return {
        imageIds: page.map(([imageTag, imageDigest]) => ({ imageTag, imageDigest })),
        ...(start + size < all.length ? { nextToken: String(start + size) } : {}),
      };
    });
    mock.on(BatchGetImageCommand).callsFake(async (input) => {
      await hook('BatchGetImageCommand');
      const repo = this.repos.get(input.repositoryName!);
      const images = [];
      const failures: ImageFailure[] = [];
      for (const id of input.imageIds ?? []) {
        const digest = id.imageDigest ?? repo?.tags.get(id.imageTag!);
        const m = digest ? repo?.manifests.get(digest) : undefined;
        if (m)
          images.push({
            imageId: { imageDigest: digest, ...(id.imageTag && { imageTag: id.imageTag }) },
            imageManifest: m.body,
            imageManifestMediaType: m.mediaType,
          });
        else failures.push({ imageId: id, failureCode: 'ImageNotFound', failureReason: 'Requested image not found' });
      }
      return { images, failures };
    });
    mock.on(PutImageCommand).callsFake(async (input) => {
      await hook('PutImageCommand');
      this.put(input.repositoryName!, input.imageManifest!, input.imageManifestMediaType!, input.imageTag);
      return { image: { imageId: { imageDigest: digestOf(input.imageManifest!), imageTag: input.imageTag } } };
    });
    mock.on(GetDownloadUrlForLayerCommand).callsFake(async (input) => {
      await hook('GetDownloadUrlForLayerCommand');
      if (!this.blobs.has(`${input.repositoryName}@${input.layerDigest}`))
        throw Object.assign(new Error(`The image layer ${input.layerDigest} does not exist`), { name: 'LayerNotFoundException' });
      return { downloadUrl: `${LAYER_ORIGIN}/${input.repositoryName}?digest=${input.layerDigest}`, layerDigest: input.layerDigest };
    });
    mock.on(GetAuthorizationTokenCommand).callsFake(async () => {
      await hook('GetAuthorizationTokenCommand');
      return { authorizationData: [{ authorizationToken: Buffer.from('AWS:memory-ecr-token').toString('base64'), proxyEndpoint: `https://${this.host}` }] };
    });
    mock.on(BatchDeleteImageCommand).callsFake(async (input) => {
      await hook('BatchDeleteImageCommand');
      if ((input.imageIds ?? []).length > 100) throw Object.assign(new Error('imageIds: at most 100'), { name: 'InvalidParameterException' });
      const repo = this.repos.get(input.repositoryName!);
      const imageIds = [];
      const failures: ImageFailure[] = [];
      for (const id of input.imageIds ?? []) {
        const digest = id.imageDigest!;
        if (!repo?.manifests.has(digest)) {
          failures.push({ imageId: id, failureCode: 'ImageNotFound', failureReason: 'Requested image not found' });
          continue;
        }
        const referenced = [...repo.manifests].some(([d, m]) => d !== digest && INDEX_TYPES.includes(m.mediaType) && m.body.includes(digest));
        if (referenced) {
          failures.push({ imageId: id, failureCode: 'ImageReferencedByManifestList', failureReason: 'Requested image is referenced by an image index' });
          continue;
        }
        repo.manifests.delete(digest);
        for (const [tag, d] of repo.tags) if (d === digest) repo.tags.delete(tag);
        imageIds.push({ imageDigest: digest });
      }
      return { imageIds, failures };
    });
  }

  /** Stores a manifest (under a tag, if given); returns its digest. */
  put(repository: string, body: string, mediaType: string, tag?: string): string {
    const repo = this.repos.get(repository) ?? { tags: new Map(), manifests: new Map() };
    this.repos.set(repository, repo);
    const digest = digestOf(body);
    repo.manifests.set(digest, { body, mediaType });
    if (tag) repo.tags.set(tag, digest);
    return digest;
  }

  /** Every tag of a repository with its digest. */
  tags(repository: string): Map<string, string> {
    return new Map(this.repos.get(repository)?.tags ?? []);
  }

  /** How many manifests a repository holds. */
  manifestCount(repository: string): number {
    return this.repos.get(repository)?.manifests.size ?? 0;
  }

  /** Every request so far. */
  total(): number {
    return [...this.requests.values()].reduce((a, b) => a + b, 0);
  }
}
