import {
  BatchDeleteImageCommand,
  BatchGetImageCommand,
  type ECRClient,
  GetAuthorizationTokenCommand,
  GetDownloadUrlForLayerCommand,
  type ImageIdentifier,
  ListImagesCommand,
  PutImageCommand,
} from '@aws-sdk/client-ecr';
import {
  isDigest,
  sha256Digest,
  MANIFEST_MEDIA_TYPES,
  PageLimit,
  OciRegistry,
  type BlobCopy,
  Registry,
  RegistryError,
  StoredManifest,
  RetryOptions,
  isThrottlingError,
  withRetry,
} from '@devcontainer-factory/core';

export interface EcrRegistryProps {
  /** The ECR client (region and credentials come from it). */
  readonly client: ECRClient;
  /**
   * The AWS account id that owns the repositories.
   * @default - the registry of the client's own account
   */
  readonly registryId?: string;
  /** The host clients pull from, e.g. `123456789012.dkr.ecr.eu-west-1.amazonaws.com`. */
  readonly host: string;
  /**
   * The `fetch` used to download blobs from the URLs of `GetDownloadUrlForLayer`.
   * @default - the global `fetch`
   */
  readonly fetch?: typeof fetch;
  /**
   * How to retry throttled calls.
   * @default - {@link withRetry} defaults: 5 retries, 200 ms base delay, on throttling and HTTP 429 / 5xx
   */
  readonly retry?: RetryOptions;
  /**
   * Most pages of `ListImages` to read for one repository before giving up with a {@link RegistryError}
   * (a `nextToken` that never ends, or one that repeats, is refused).
   * @default 1000 (a million tags at 1000 a page)
   */
  readonly maxListPages?: number;
  /**
   * Chunk size of a blob copy that ECR does not mount (see {@link OciRegistryProps.copyChunkBytes}).
   * @default 8388608 (8 MiB)
   */
  readonly copyChunkBytes?: number;
}

/** Most image ids one `BatchDeleteImage` takes. */
const MAX_BATCH_DELETE = 100;
/** Failure codes of `BatchGetImage` that mean "no such manifest". */
const NOT_FOUND_CODES: readonly string[] = ['ImageNotFound'];
/** Failure codes of `BatchGetImage` worth another attempt. */
const RETRYABLE_FAILURE_CODES: readonly string[] = ['UpstreamTooManyRequests', 'UpstreamUnavailable'];

function errorName(error: unknown): string | undefined {
  return typeof error === 'object' && error !== null ? (error as { name?: string }).name : undefined;
}

function describe(error: unknown): string {
  if (error instanceof Error) return `${error.name}: ${error.message}`;
  return String(error);
}

/** A `BatchGetImage` failure worth another attempt (kept apart so that retries see it). */
class BatchGetImageFailure extends RegistryError {
  readonly retryable: boolean;
  constructor(message: string, retryable: boolean) {
    super(message);
    this.name = 'BatchGetImageFailure';
    this.retryable = retryable;
  }
}

/**
 * The {@link Registry} of the Lambdas: the ECR API. Manifests are read with
 * `BatchGetImage` and written with `PutImage` as exact bytes (ECR takes them as a
 * UTF-8 string, so the digest given to `PutImage` is the sha256 of those bytes),
 * blobs through `GetDownloadUrlForLayer`, tags with `ListImages`; blob copies and
 * uploads through ECR's OCI endpoint.
 */
export class EcrRegistry implements Registry {
  readonly host: string;
  private readonly client: ECRClient;
  private readonly registryId?: string;
  private readonly fetchFn: typeof fetch;
  private readonly retry: RetryOptions;
  private readonly maxListPages: number;
  private readonly copyChunkBytes?: number;
  /** ECR's OCI endpoint, with the credentials of `GetAuthorizationToken` (valid 12 hours), for blob copies. */
  private oci?: Promise<OciRegistry>;

  constructor(props: EcrRegistryProps) {
    if (!props.host) throw new RegistryError('EcrRegistry needs the host clients pull from, e.g. 123456789012.dkr.ecr.eu-west-1.amazonaws.com');
    this.client = props.client;
    this.registryId = props.registryId;
    this.host = props.host;
    this.fetchFn = props.fetch ?? ((...args) => fetch(...args));
    this.maxListPages = props.maxListPages ?? 1000;
    this.copyChunkBytes = props.copyChunkBytes;
    const isRetryable = props.retry?.isRetryable ?? isThrottlingError;
    this.retry = {
      ...props.retry,
      isRetryable: (error) => (error instanceof BatchGetImageFailure ? error.retryable : isRetryable(error)),
    };
  }

  async getManifest(repository: string, reference: string): Promise<StoredManifest | undefined> {
    const imageId: ImageIdentifier = isDigest(reference) ? { imageDigest: reference } : { imageTag: reference };
    let out;
    try {
      out = await withRetry(async () => {
        const res = await this.client.send(
          new BatchGetImageCommand({
            registryId: this.registryId,
            repositoryName: repository,
            imageIds: [imageId],
            acceptedMediaTypes: [...MANIFEST_MEDIA_TYPES],
          }),
        );
        const failure = res.failures?.find((f) => !NOT_FOUND_CODES.includes(f.failureCode ?? ''));
        if (failure && !res.images?.length) {
          throw new BatchGetImageFailure(
            `ECR BatchGetImage of ${repository}:${reference} failed: ${failure.failureCode}: ${failure.failureReason ?? ''}`.trim(),
            RETRYABLE_FAILURE_CODES.includes(failure.failureCode ?? ''),
          );
        }
        return res;
      }, this.retry);
    } catch (error) {
      if (errorName(error) === 'RepositoryNotFoundException') return undefined;
      if (error instanceof RegistryError) throw error;
      throw new RegistryError(`ECR BatchGetImage of ${repository}:${reference} failed: ${describe(error)}`, { cause: error });
    }
    const image = out.images?.[0];
    if (!image?.imageManifest) return undefined;
    const body = Buffer.from(image.imageManifest, 'utf8');
    const digest = sha256Digest(body);
    if (image.imageId?.imageDigest && image.imageId.imageDigest !== digest) {
      throw new RegistryError(
        `ECR returned a manifest for ${repository}:${reference} whose bytes hash to ${digest}, not ${image.imageId.imageDigest}; it may have converted the manifest`,
      );
    }
    return { digest, mediaType: image.imageManifestMediaType ?? JSON.parse(image.imageManifest).mediaType ?? '', body };
  }

  async putManifest(repository: string, tag: string | undefined, mediaType: string, body: Buffer): Promise<string> {
    const text = body.toString('utf8');
    if (!Buffer.from(text, 'utf8').equals(body)) {
      throw new RegistryError(
        `the manifest for ${repository}:${tag ?? '(untagged)'} is not valid UTF-8: ECR's PutImage takes it as a string, which would change its digest`,
      );
    }
    const digest = sha256Digest(body);
    try {
      const res = await withRetry(
        () =>
          this.client.send(
            new PutImageCommand({
              registryId: this.registryId,
              repositoryName: repository,
              imageManifest: text,
              imageManifestMediaType: mediaType,
              imageTag: tag,
              imageDigest: digest,
            }),
          ),
        this.retry,
      );
      const stored = res.image?.imageId?.imageDigest;
      if (stored && stored !== digest) {
        throw new RegistryError(`ECR stored the manifest for ${repository}:${tag ?? '(untagged)'} as ${stored}, expected ${digest}`);
      }
    } catch (error) {
      const name = errorName(error);
      if (name === 'ImageAlreadyExistsException') return digest;
      if (error instanceof RegistryError) throw error;
      const hint =
        name === 'ImageTagAlreadyExistsException'
          ? ` (the tag is immutable in this repository: a factory release repository never moves an X.Y.Z, and 'latest', X.Y, X and date tags need a repository whose other tags are mutable)`
          : name === 'ReferencedImagesNotFoundException'
            ? ' (push every image the index refers to first)'
            : '';
      throw new RegistryError(`ECR PutImage of ${repository}:${tag ?? digest} failed: ${describe(error)}${hint}`, { cause: error });
    }
    return digest;
  }

  async getBlob(repository: string, digest: string): Promise<Buffer> {
    let url: string | undefined;
    try {
      const res = await withRetry(
        () => this.client.send(new GetDownloadUrlForLayerCommand({ registryId: this.registryId, repositoryName: repository, layerDigest: digest })),
        this.retry,
      );
      url = res.downloadUrl;
    } catch (error) {
      throw new RegistryError(`ECR GetDownloadUrlForLayer of ${repository}@${digest} failed: ${describe(error)}`, { cause: error });
    }
    if (!url) throw new RegistryError(`ECR GetDownloadUrlForLayer of ${repository}@${digest} returned no URL`);
    const downloadUrl = url;
    const bytes = await withRetry(async () => {
      let res: Response;
      try {
        res = await this.fetchFn(downloadUrl);
      } catch (cause) {
        throw new RegistryError(`downloading ${repository}@${digest} from ECR failed`, { cause });
      }
      if (!res.ok) {
        throw Object.assign(new RegistryError(`downloading ${repository}@${digest} from ECR failed: HTTP ${res.status}`), { status: res.status });
      }
      return Buffer.from(await res.arrayBuffer());
    }, this.retry);
    if (sha256Digest(bytes) !== digest) throw new RegistryError(`the blob ${repository}@${digest} downloaded from ECR hashes to ${sha256Digest(bytes)}`);
    return bytes;
  }

  /**
   * Makes a blob of `from` available in `repository` through ECR's OCI endpoint (the ECR
   * API has no mount): a cross-repository mount when the account setting `BLOB_MOUNTING`
   * is on and both repositories have the same encryption, else a chunked copy. Needs
   * `ecr:GetAuthorizationToken`, pull on `from` and push on `repository`.
   */
  async copyBlob(from: string, repository: string, digest: string, size: number): Promise<BlobCopy> {
    return (await this.ociEndpoint()).copyBlob(from, repository, digest, size);
  }

  /**
   * Uploads a blob (a referrer's layer: the configuration zip Manifest keeps) through ECR's
   * OCI endpoint, in one POST and PUT, as `OciRegistry.pushBlob` does; nothing when the
   * repository holds it already. (The ECR API's own layer upload takes parts of at least
   * 5 MiB but the last, and is meant for registry clients.) Needs `ecr:GetAuthorizationToken`
   * and, on `repository`, `ecr:BatchCheckLayerAvailability`, `ecr:InitiateLayerUpload`,
   * `ecr:UploadLayerPart` and `ecr:CompleteLayerUpload`.
   */
  async pushBlob(repository: string, bytes: Uint8Array): Promise<{ digest: string; size: number }> {
    return (await this.ociEndpoint()).pushBlob(repository, bytes);
  }

  private ociEndpoint(): Promise<OciRegistry> {
    this.oci ??= (async () => {
      let token: string | undefined;
      try {
        const res = await withRetry(() => this.client.send(new GetAuthorizationTokenCommand({})), this.retry);
        token = res.authorizationData?.[0]?.authorizationToken;
      } catch (error) {
        throw new RegistryError(`ECR GetAuthorizationToken failed: ${describe(error)}`, { cause: error });
      }
      const [username, password] = token ? Buffer.from(token, 'base64').toString('utf8').split(/:(.*)/s) : [];
      if (!username || !password) throw new RegistryError('ECR GetAuthorizationToken returned no token of the form user:password');
      return new OciRegistry({ host: this.host, username, password, fetch: this.fetchFn, retry: this.retry, copyChunkBytes: this.copyChunkBytes });
    })();
    this.oci.catch(() => (this.oci = undefined));
    return this.oci;
  }

  /**
   * Deletes a manifest by digest with `BatchDeleteImage` (ECR removes its tags with it);
   * a manifest that is gone already (`ImageNotFound`, or no repository) is fine. ECR
   * refuses to delete an image that an index still references (`ImageReferencedByManifestList`):
   * delete the index first.
   */
  async deleteManifest(repository: string, digest: string): Promise<void> {
    if (!isDigest(digest)) throw new RegistryError(`cannot delete ${repository}:${digest}: deletes go by digest (sha256:…), never by tag`);
    let res;
    try {
      res = await withRetry(
        () => this.client.send(new BatchDeleteImageCommand({ registryId: this.registryId, repositoryName: repository, imageIds: [{ imageDigest: digest }] })),
        this.retry,
      );
    } catch (error) {
      if (errorName(error) === 'RepositoryNotFoundException') return;
      throw new RegistryError(`ECR BatchDeleteImage of ${repository}@${digest} failed: ${describe(error)}`, { cause: error });
    }
    const failure = res.failures?.find((f) => !NOT_FOUND_CODES.includes(f.failureCode ?? ''));
    if (failure) {
      const hint = failure.failureCode === 'ImageReferencedByManifestList' ? ' (an image index still references it: delete the index first)' : '';
      const reason = failure.failureReason ? `: ${failure.failureReason}` : '';
      throw new RegistryError(`ECR BatchDeleteImage of ${repository}@${digest} failed: ${failure.failureCode}${reason}${hint}`);
    }
  }

  /**
   * Deletes up to 100 manifests by digest in one `BatchDeleteImage` (ECR removes their
   * tags with them); one that is gone already (`ImageNotFound`, or no repository) counts
   * as deleted. Returns the digests ECR refused, with its failure code and reason.
   */
  async deleteManifests(repository: string, digests: readonly string[]): Promise<ReadonlyMap<string, string>> {
    const bad = digests.find((d) => !isDigest(d));
    if (bad !== undefined) throw new RegistryError(`cannot delete ${repository}:${bad}: deletes go by digest (sha256:…), never by tag`);
    if (digests.length > MAX_BATCH_DELETE) throw new RegistryError(`ECR BatchDeleteImage takes at most ${MAX_BATCH_DELETE} images, not ${digests.length}`);
    const failures = new Map<string, string>();
    if (digests.length === 0) return failures;
    let res;
    try {
      res = await withRetry(
        () =>
          this.client.send(
            new BatchDeleteImageCommand({ registryId: this.registryId, repositoryName: repository, imageIds: digests.map((imageDigest) => ({ imageDigest })) }),
          ),
        this.retry,
      );
    } catch (error) {
      if (errorName(error) === 'RepositoryNotFoundException') return failures;
      throw new RegistryError(`ECR BatchDeleteImage of ${digests.length} image(s) of ${repository} failed: ${describe(error)}`, { cause: error });
    }
    for (const f of res.failures ?? []) {
      if (NOT_FOUND_CODES.includes(f.failureCode ?? '')) continue;
      const digest = f.imageId?.imageDigest;
      const hint = f.failureCode === 'ImageReferencedByManifestList' ? ' (an image index still references it: delete the index first)' : '';
      const reason = `${f.failureCode}${f.failureReason ? `: ${f.failureReason}` : ''}${hint}`;
      // A failure that names no image of the request cannot be placed: nothing of the batch counts as deleted for sure.
      if (!digest || !digests.includes(digest))
        throw new RegistryError(`ECR BatchDeleteImage of ${repository} failed for an image it does not name: ${reason}`);
      failures.set(digest, reason);
    }
    return failures;
  }

  async listTags(repository: string): Promise<string[]> {
    return [...(await this.tagDigests(repository)).keys()];
  }

  /** Every tag with its digest, from one paginated `ListImages` (tagged images only); empty when the repository does not exist. */
  async tagDigests(repository: string): Promise<Map<string, string>> {
    const tags = new Map<string, string>();
    let nextToken: string | undefined;
    const pages = new PageLimit(this.maxListPages, {
      repeated: (_token, read) => new RegistryError(`ECR ListImages of ${repository} does not end: page ${read} gives a nextToken already used`),
      tooMany: (_token, max) => new RegistryError(`ECR ListImages of ${repository} runs past ${max} pages (maxListPages); giving up`),
    });
    try {
      do {
        pages.visit(nextToken ?? '');
        const token = nextToken;
        const res = await withRetry(
          () =>
            this.client.send(
              new ListImagesCommand({
                registryId: this.registryId,
                repositoryName: repository,
                filter: { tagStatus: 'TAGGED' },
                maxResults: 1000,
                nextToken: token,
              }),
            ),
          this.retry,
        );
        for (const id of res.imageIds ?? []) {
          if (id.imageTag && id.imageDigest) tags.set(id.imageTag, id.imageDigest);
        }
        nextToken = res.nextToken;
      } while (nextToken);
    } catch (error) {
      if (error instanceof RegistryError) throw error;
      if (errorName(error) === 'RepositoryNotFoundException') return new Map();
      throw new RegistryError(`ECR ListImages of ${repository} failed: ${describe(error)}`, { cause: error });
    }
    return tags;
  }
}
