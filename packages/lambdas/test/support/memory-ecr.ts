import { createHash } from 'node:crypto';
import { BatchDeleteImageCommand, BatchGetImageCommand, ECRClient, ListImagesCommand, PutImageCommand, type ImageFailure } from '@aws-sdk/client-ecr';
import { mockClient } from 'aws-sdk-client-mock';

const digestOf = (body: string) => `sha256:${createHash('sha256').update(body).digest('hex')}`;
const INDEX_TYPES = ['application/vnd.oci.image.index.v1+json', 'application/vnd.docker.distribution.manifest.list.v2+json'];

/**
 * ECR's manifest API in memory, as the factory's `EcrRegistry` calls it, with the
 * request count per command: `ListImages` pages by `maxResults` (at most 1,000) with a
 * `nextToken`, `BatchGetImage`, `PutImage`, and `BatchDeleteImage` of up to 100 ids,
 * which removes every tag of an image and refuses one that a stored index references
 * (`ImageReferencedByManifestList`), as ECR does.
 */
export class MemoryEcr {
  readonly client = new ECRClient({ region: 'eu-west-1', credentials: { accessKeyId: 'test', secretAccessKey: 'test' } });
  /** Requests per command name, e.g. `ListImagesCommand`. */
  readonly requests = new Map<string, number>();
  /** Runs before a command is answered (a test's chance to act between two requests). */
  beforeEach?: (command: string) => Promise<void> | void;
  private readonly repos = new Map<string, { tags: Map<string, string>; manifests: Map<string, { body: string; mediaType: string }> }>();

  constructor() {
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
      return { imageIds: page.map(([imageTag, imageDigest]) => ({ imageTag, imageDigest })), ...(start + size < all.length ? { nextToken: String(start + size) } : {}) };
    });
    mock.on(BatchGetImageCommand).callsFake(async (input) => {
      await hook('BatchGetImageCommand');
      const repo = this.repos.get(input.repositoryName!);
      const images = [];
      const failures: ImageFailure[] = [];
      for (const id of input.imageIds ?? []) {
        const digest = id.imageDigest ?? repo?.tags.get(id.imageTag!);
        const m = digest ? repo?.manifests.get(digest) : undefined;
        if (m) images.push({ imageId: { imageDigest: digest, ...(id.imageTag && { imageTag: id.imageTag }) }, imageManifest: m.body, imageManifestMediaType: m.mediaType });
        else failures.push({ imageId: id, failureCode: 'ImageNotFound', failureReason: 'Requested image not found' });
      }
      return { images, failures };
    });
    mock.on(PutImageCommand).callsFake(async (input) => {
      await hook('PutImageCommand');
      this.put(input.repositoryName!, input.imageManifest!, input.imageManifestMediaType!, input.imageTag);
      return { image: { imageId: { imageDigest: digestOf(input.imageManifest!), imageTag: input.imageTag } } };
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
