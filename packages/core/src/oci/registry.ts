/**
 * The small registry interface that the release logic runs on. Two implementations
 * (written in this folder): the ECR API for the Lambdas, and the OCI distribution
 * HTTP API for `dcf local` and for tests against a real registry.
 */
import { FactoryError } from '../factory-error';
import type { Descriptor } from './descriptor';

export const MEDIA_TYPES = {
  ociManifest: 'application/vnd.oci.image.manifest.v1+json',
  ociIndex: 'application/vnd.oci.image.index.v1+json',
  dockerManifest: 'application/vnd.docker.distribution.manifest.v2+json',
  dockerManifestList: 'application/vnd.docker.distribution.manifest.list.v2+json',
} as const;

/** A manifest as the registry stores it: exact bytes, so the digest stays the same. */
export interface StoredManifest {
  /** `sha256:…` of `body`. */
  readonly digest: string;
  readonly mediaType: string;
  readonly body: Buffer;
}

export interface Registry {
  /** The host clients pull from, e.g. `123456789012.dkr.ecr.eu-west-1.amazonaws.com` or `localhost:5000`. */
  readonly host: string;
  /** The manifest a tag or digest points to; undefined when there is none (the repository may not exist yet). */
  getManifest(repository: string, reference: string): Promise<StoredManifest | undefined>;
  /** Stores manifest bytes under a tag (or only by digest when `tag` is undefined); returns the digest. Idempotent. */
  putManifest(repository: string, tag: string | undefined, mediaType: string, body: Buffer): Promise<string>;
  /**
   * The digest a tag names, without reading the manifest where the registry allows it.
   * Optional: without it, callers read the manifest ({@link Registry.getManifest}).
   */
  manifestDigest?(repository: string, reference: string): Promise<string | undefined>;
  /** A blob's bytes (used to read image configs). */
  getBlob(repository: string, digest: string): Promise<Buffer>;
  /** Every tag of the repository; empty when the repository does not exist. */
  listTags(repository: string): Promise<string[]>;
  /**
   * Every tag with the digest it points at, for registries that list both in one
   * call (ECR `ListImages`). Optional: without it, callers read each tag's manifest.
   */
  tagDigests?(repository: string): Promise<Map<string, string>>;
  /**
   * Makes blob `digest` (of `size` bytes) of repository `from` available in `repository`
   * of the same registry: nothing to do when it is there already, a cross-repository
   * mount where the registry allows it, else a copy in bounded chunks. Optional:
   * promotion needs it.
   */
  copyBlob?(from: string, repository: string, digest: string, size: number): Promise<BlobCopy>;
  /**
   * Deletes the manifest `digest` (a `sha256:` digest, never a tag) and with it every
   * tag that points at it; nothing to do when it is gone already. Optional: retention
   * needs it.
   */
  deleteManifest?(repository: string, digest: string): Promise<void>;
  /**
   * Deletes several manifests by digest in one request (ECR's `BatchDeleteImage`, at
   * most 100), each with every tag that points at it; one that is gone already counts
   * as deleted. Returns the digests it could not delete, with the registry's reason.
   * Optional: without it, callers delete one at a time ({@link Registry.deleteManifest}).
   */
  deleteManifests?(repository: string, digests: readonly string[]): Promise<ReadonlyMap<string, string>>;
  /**
   * The referrers of a manifest through the OCI 1.1 referrers API; undefined when the
   * registry has none (then the fallback tag `sha256-<hex>` lists them). Optional.
   */
  referrers?(repository: string, digest: string): Promise<readonly Descriptor[] | undefined>;
}

/** How {@link Registry.copyBlob} made a blob available: it was there, it was mounted, or its bytes were copied. */
export type BlobCopy = 'present' | 'mounted' | 'copied';

/** Thrown by the registry logic; keeps the underlying error as `cause`. */
export class RegistryError extends FactoryError {}
