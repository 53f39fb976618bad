import { createHash } from 'node:crypto';
import { sha256Digest } from './digest';
import { isDigest, isTag } from './names';
import { Descriptor, IMAGE_CONFIG_MEDIA_TYPES, ImageManifest, MANIFEST_MEDIA_TYPES } from './manifest';
import { tokenRealmProblem } from './private/origin-policy';
import { parseWwwAuthenticate } from './private/www-authenticate';
import { MEDIA_TYPES, type BlobCopy, Registry, RegistryError, StoredManifest } from './registry';
import { PageLimit } from './page-limit';
import { RetryOptions, isThrottlingError, isTransientNetworkError, withRetry } from './retry';

/** Media type of a gzip-compressed tar layer (OCI). */
export const OCI_LAYER_GZIP_MEDIA_TYPE = 'application/vnd.oci.image.layer.v1.tar+gzip';

export interface OciRegistryProps {
  /** Registry host and port as clients write it in image names, e.g. `localhost:5000` or `123456789012.dkr.ecr.eu-west-1.amazonaws.com`. */
  readonly host: string;
  /**
   * Speak plain HTTP instead of HTTPS.
   * @default - true only for `localhost`, `127.0.0.1` and `[::1]` hosts
   */
  readonly insecure?: boolean;
  /**
   * User name for `Basic` challenges and for fetching `Bearer` tokens (`AWS` for ECR).
   * @default - anonymous
   */
  readonly username?: string;
  /**
   * Password for `Basic` challenges and for fetching `Bearer` tokens (for ECR: the token of `GetAuthorizationToken`).
   * @default - anonymous
   */
  readonly password?: string;
  /**
   * The `fetch` to use.
   * @default - the global `fetch`
   */
  readonly fetch?: typeof fetch;
  /**
   * Tags asked for per page of `tags/list` (the registry may send fewer and a `Link` to the next page).
   * @default 1000
   */
  readonly tagsPageSize?: number;
  /**
   * Most pages of `tags/list` to follow through `Link` headers before giving up with a {@link RegistryPaginationError}.
   * @default 1000
   */
  readonly maxTagPages?: number;
  /**
   * How to retry HTTP 429 and 5xx answers, and dropped connections (ECONNRESET, socket hang up)
   * of requests that are safe to repeat; a blob upload whose connection dropped is started again.
   * @default - {@link withRetry} defaults: 5 retries, 200 ms base delay
   */
  readonly retry?: RetryOptions;
  /**
   * Deadline of one request, from sending it to the last byte of the answer (redirects
   * and a slow body included), except blob transfers. A request that misses it fails
   * with a {@link RegistryTimeoutError} and is not retried.
   * @default 30000
   */
  readonly timeoutMs?: number;
  /**
   * Deadline of one blob download or upload, from sending it to the last byte.
   * @default 300000 (5 minutes)
   */
  readonly blobTimeoutMs?: number;
  /**
   * Largest manifest or index accepted, in bytes; larger ones fail with a {@link RegistryResponseError}
   * without being read further.
   * @default 4194304 (4 MiB, the limit of the OCI distribution spec)
   */
  readonly maxManifestBytes?: number;
  /**
   * Largest JSON answer accepted from the registry or its token service (a page of tags, a token), in bytes.
   * @default 4194304 (4 MiB)
   */
  readonly maxJsonBytes?: number;
  /**
   * Largest blob {@link OciRegistry.getBlob} reads into memory (image configs, feature layers), in bytes.
   * @default 67108864 (64 MiB)
   */
  readonly maxBlobBytes?: number;
  /**
   * Bytes of one chunk when {@link OciRegistry.copyBlob} copies a blob the registry would
   * not mount: a range read from the source and a `PATCH` to the upload, so a copy holds
   * one chunk in memory whatever the blob's size.
   * @default 8388608 (8 MiB; ECR takes parts of up to 20 MiB)
   */
  readonly copyChunkBytes?: number;
}

/** Longest error body read to report the registry's error code; the rest is dropped. */
const ERROR_BODY_BYTES = 64 * 1024;
/** Most redirects followed for one GET or HEAD. */
const MAX_REDIRECTS = 5;
/** Characters of an unexpected answer quoted in an error. */
const EXCERPT_CHARS = 200;
/** The digest of zero bytes. */
const EMPTY_DIGEST = sha256Digest(new Uint8Array());

/** An HTTP answer the registry logic did not expect; `status` drives retries, `code` is the registry's error code (e.g. `NAME_UNKNOWN`). */
export class RegistryHttpError extends RegistryError {
  readonly status: number;
  readonly code?: string;
  constructor(message: string, status: number, code?: string, options?: { cause?: unknown }) {
    super(message, options);
    this.status = status;
    this.code = code;
  }
}

/** A request that got no complete answer within its deadline (`timeoutMs` or `blobTimeoutMs`). */
export class RegistryTimeoutError extends RegistryError {
  readonly url: string;
  readonly timeoutMs: number;
  constructor(message: string, url: string, timeoutMs: number, options?: { cause?: unknown }) {
    super(message, options);
    this.url = url;
    this.timeoutMs = timeoutMs;
  }
}

/** An answer that is too large or not of the shape the OCI distribution spec gives it; `url` is where it came from. */
export class RegistryResponseError extends RegistryError {
  readonly url: string;
  constructor(message: string, url: string, options?: { cause?: unknown }) {
    super(message, options);
    this.url = url;
  }
}

/** The registry pointed the client at another origin (a `Link`, an upload `Location`, a redirect or a token realm) that it must not trust with credentials. */
export class RegistryOriginError extends RegistryError {
  readonly url: string;
  constructor(message: string, url: string, options?: { cause?: unknown }) {
    super(message, options);
    this.url = url;
  }
}

/**
 * A blob whose bytes are not what its descriptor says: they hash to another digest, or
 * there are more or fewer of them than its size. Thrown by {@link OciRegistry.copyBlob}
 * before the copy is completed, so the target repository never gets the blob.
 */
export class BlobMismatchError extends RegistryError {
  /** The repository the bytes were read from. */
  readonly repository: string;
  /** The digest the descriptor gives, `sha256:…`. */
  readonly digest: string;
  /** The size the descriptor gives, in bytes. */
  readonly expectedSize: number;
  /** The digest of the bytes read; undefined when the size already differed. */
  readonly actualDigest?: string;
  /** How many bytes the registry has (or sent). */
  readonly actualSize: number;
  constructor(
    message: string,
    fields: { repository: string; digest: string; expectedSize: number; actualDigest?: string; actualSize: number },
    options?: { cause?: unknown },
  ) {
    super(message, options);
    this.repository = fields.repository;
    this.digest = fields.digest;
    this.expectedSize = fields.expectedSize;
    this.actualDigest = fields.actualDigest;
    this.actualSize = fields.actualSize;
  }
}

/** A `tags/list` whose `Link` headers loop or run past `maxTagPages`. */
export class RegistryPaginationError extends RegistryError {}

/** The registry could not be reached, or the connection broke; `cause` is the network error. */
export class RegistryConnectionError extends RegistryError {}

/** A layer to push with {@link OciRegistry.pushImage}. */
export interface ImageLayer {
  readonly bytes: Uint8Array;
  /** @default OCI_LAYER_GZIP_MEDIA_TYPE */
  readonly mediaType?: string;
}

/** What {@link OciRegistry.pushImage} pushes: a config and its layers. */
export interface ImageContent {
  /** The image config, as an object (serialised with `JSON.stringify`) or exact bytes. */
  readonly config: object | Uint8Array;
  readonly layers: readonly ImageLayer[];
  /** @default - the OCI image config media type */
  readonly configMediaType?: string;
  /**
   * The manifest's annotations (a devcontainer feature carries its definition in `dev.containers.metadata`).
   * @default - none
   */
  readonly annotations?: Readonly<Record<string, string>>;
}

/** The manifest {@link OciRegistry.pushImage} wrote. */
export interface PushedImage extends StoredManifest {
  readonly manifest: ImageManifest;
  /** Size of the manifest in bytes, for a descriptor. */
  readonly size: number;
}

type Action = 'pull' | 'pull,push';

interface ExchangeOptions {
  readonly method?: string;
  readonly headers?: Record<string, string>;
  readonly body?: Uint8Array;
  /** Largest 2xx body to read; error bodies are cut at {@link ERROR_BODY_BYTES}. */
  readonly maxBytes: number;
  readonly timeoutMs: number;
  /** The option that sets `timeoutMs`, for the error message. */
  readonly timeoutOption: 'timeoutMs' | 'blobTimeoutMs';
  /**
   * Follow a redirect of a GET or HEAD to another origin, without credentials: only
   * for blobs, whose bytes are checked against their digest. Same-origin redirects
   * are always followed; other redirects are refused.
   */
  readonly crossOriginRedirects?: boolean;
}

interface SendOptions extends ExchangeOptions {
  /** Repository whose scope a Bearer token needs. */
  readonly repository: string;
  readonly action: Action;
  /** Repeating the request has the same effect, so a dropped connection may be retried. */
  readonly idempotent: boolean;
}

/** A whole answer: its body was read within the deadline and the size cap. */
interface Answer {
  readonly status: number;
  readonly headers: Headers;
  readonly body: Buffer;
  /** The URL that answered (after redirects). */
  readonly url: string;
}

function isLoopback(host: string): boolean {
  return /^(localhost|127\.0\.0\.1|\[::1\])(:\d+)?$/.test(host);
}

/** The start of an unexpected body, quoted, for an error message. */
function excerpt(body: Buffer): string {
  const text = body.subarray(0, EXCERPT_CHARS * 4).toString('utf8');
  return text.length > EXCERPT_CHARS || body.length > EXCERPT_CHARS * 4 ? `${JSON.stringify(text.slice(0, EXCERPT_CHARS))}…` : JSON.stringify(text);
}

function registryErrorCode(body: Buffer): { code?: string; message?: string } {
  try {
    const json = JSON.parse(body.toString('utf8')) as unknown;
    const first = (json as { errors?: unknown }).errors;
    const error = Array.isArray(first) ? (first[0] as { code?: unknown; message?: unknown }) : undefined;
    return {
      code: typeof error?.code === 'string' ? error.code.slice(0, 100) : undefined,
      message: typeof error?.message === 'string' ? error.message.slice(0, 300) : undefined,
    };
  } catch {
    return {};
  }
}

/** Reads a body up to `maxBytes`: more is an error (`throw`) or dropped (`truncate`); either way the rest is not read. */
async function readBody(res: Response, maxBytes: number, overflow: 'throw' | 'truncate', tooLarge: (size: string) => Error): Promise<Buffer> {
  const declared = Number(res.headers.get('content-length') ?? '');
  if (overflow === 'throw' && Number.isFinite(declared) && declared > maxBytes) {
    await res.body?.cancel().catch(() => undefined);
    throw tooLarge(`declares ${declared} bytes (Content-Length)`);
  }
  if (!res.body) return Buffer.alloc(0);
  const reader = res.body.getReader();
  const chunks: Uint8Array[] = [];
  let size = 0;
  for (;;) {
    const { done, value } = await reader.read();
    if (done) break;
    if (size + value.length > maxBytes) {
      await reader.cancel().catch(() => undefined);
      if (overflow === 'throw') throw tooLarge(`is longer than that`);
      chunks.push(value.subarray(0, maxBytes - size));
      size = maxBytes;
      break;
    }
    chunks.push(value);
    size += value.length;
  }
  return Buffer.concat(chunks, size);
}

function parseJson(body: Buffer, what: string, url: string): unknown {
  try {
    return JSON.parse(body.toString('utf8'));
  } catch (cause) {
    throw new RegistryResponseError(`${what} from ${url} is not JSON; the registry sent ${excerpt(body)}`, url, { cause });
  }
}

function isObject(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

/** Checks that manifest bytes are what the spec calls a manifest or an index, before anyone trusts them. */
function checkManifestShape(body: Buffer, url: string): void {
  const json = parseJson(body, 'the manifest', url);
  const problem = !isObject(json)
    ? 'is not a JSON object'
    : json.mediaType !== undefined && typeof json.mediaType !== 'string'
      ? "has a 'mediaType' that is not a string"
      : json.schemaVersion !== 2
        ? "has no 'schemaVersion' 2"
        : !Array.isArray(json.manifests) && !(isObject(json.config) && Array.isArray(json.layers))
          ? "has neither 'manifests' (an index) nor 'config' and 'layers' (an image manifest)"
          : undefined;
  if (problem) throw new RegistryResponseError(`the manifest from ${url} ${problem}; the registry sent ${excerpt(body)}`, url);
}

/**
 * A client of the OCI distribution HTTP API (global `fetch`): a local
 * `docker-registry` for `dcf local` and tests, or ECR's Docker endpoint. It answers
 * `WWW-Authenticate` challenges: `Basic` with the username and password, `Bearer`
 * by fetching a token from the realm for the repository's scope.
 *
 * It does not trust the registry's answers: credentials go only to the registry's
 * own origin and to a token realm that {@link tokenRealmProblem} allows; `Link` and
 * upload `Location` headers to another origin are refused, and redirects to another
 * origin are followed only for blobs, without credentials. Every request has a
 * deadline, every body a size cap, pagination a page cap, and answers are checked
 * for the shape the spec gives them.
 */
export class OciRegistry implements Registry {
  readonly host: string;
  /** `http://<host>` or `https://<host>`. */
  readonly baseUrl: string;
  private readonly origin: string;
  private readonly username?: string;
  private readonly password?: string;
  private readonly fetchFn: typeof fetch;
  private readonly retry?: RetryOptions;
  private readonly tagsPageSize: number;
  private readonly maxTagPages: number;
  private readonly timeoutMs: number;
  private readonly blobTimeoutMs: number;
  private readonly maxManifestBytes: number;
  private readonly maxJsonBytes: number;
  private readonly maxBlobBytes: number;
  private readonly copyChunkBytes: number;
  private basic = false;
  private readonly tokens = new Map<string, string>();

  constructor(props: OciRegistryProps) {
    if (!props.host || /[/\s]/.test(props.host)) {
      throw new RegistryError(`registry host '${props.host}' is invalid: give host[:port] without a scheme or path, e.g. localhost:5000`);
    }
    this.host = props.host;
    this.baseUrl = `${(props.insecure ?? isLoopback(props.host)) ? 'http' : 'https'}://${props.host}`;
    try {
      this.origin = new URL(this.baseUrl).origin;
    } catch (cause) {
      throw new RegistryError(`registry host '${props.host}' is invalid: give host[:port] without a scheme or path, e.g. localhost:5000`, { cause });
    }
    this.username = props.username;
    this.password = props.password;
    this.fetchFn = props.fetch ?? ((...args) => fetch(...args));
    this.retry = props.retry;
    this.tagsPageSize = props.tagsPageSize ?? 1000;
    this.maxTagPages = positive(props.maxTagPages, 1000, 'maxTagPages');
    this.timeoutMs = positive(props.timeoutMs, 30_000, 'timeoutMs');
    this.blobTimeoutMs = positive(props.blobTimeoutMs, 300_000, 'blobTimeoutMs');
    this.maxManifestBytes = positive(props.maxManifestBytes, 4 * 1024 * 1024, 'maxManifestBytes');
    this.maxJsonBytes = positive(props.maxJsonBytes, 4 * 1024 * 1024, 'maxJsonBytes');
    this.maxBlobBytes = positive(props.maxBlobBytes, 64 * 1024 * 1024, 'maxBlobBytes');
    this.copyChunkBytes = positive(props.copyChunkBytes, 8 * 1024 * 1024, 'copyChunkBytes');
  }

  /**
   * The digest a tag names, from a `HEAD` of the manifest (its `Docker-Content-Digest`),
   * which Docker Hub does not count as a pull; a registry that sends no digest header is
   * asked with a `GET`. Undefined when there is no such manifest.
   */
  async manifestDigest(repository: string, reference: string): Promise<string | undefined> {
    const res = await this.send(`/v2/${repository}/manifests/${reference}`, {
      method: 'HEAD',
      headers: { Accept: MANIFEST_MEDIA_TYPES.join(', ') },
      repository,
      action: 'pull',
      idempotent: true,
      ...this.limits('json'),
    });
    if (res.status === 404) return undefined;
    this.expect(res, [200], `HEAD manifest ${repository}:${reference}`);
    const claimed = res.headers.get('docker-content-digest');
    if (claimed && isDigest(claimed)) return claimed;
    return (await this.getManifest(repository, reference))?.digest;
  }

  async getManifest(repository: string, reference: string): Promise<StoredManifest | undefined> {
    const res = await this.send(`/v2/${repository}/manifests/${reference}`, {
      headers: { Accept: MANIFEST_MEDIA_TYPES.join(', ') },
      repository,
      action: 'pull',
      idempotent: true,
      ...this.limits('manifest'),
    });
    if (res.status === 404) return undefined;
    this.expect(res, [200], `GET manifest ${repository}:${reference}`);
    const body = res.body;
    const digest = sha256Digest(body);
    const claimed = res.headers.get('docker-content-digest');
    if ((isDigest(reference) && reference !== digest) || (claimed && claimed !== digest)) {
      throw new RegistryError(
        `${this.host}/${repository}:${reference}: the manifest bytes hash to ${digest}, but the registry calls them ${claimed ?? reference}`,
      );
    }
    checkManifestShape(body, res.url);
    const mediaType = (res.headers.get('content-type') ?? '').split(';')[0].trim() || MEDIA_TYPES.ociManifest;
    return { digest, mediaType, body };
  }

  /**
   * The referrers of `digest` through the OCI 1.1 referrers API (`GET /v2/<name>/referrers/<digest>`),
   * which ECR has; undefined when the registry has no such API (a 404, as the CNCF distribution
   * registry 2.x answers), so that the caller reads the fallback tag instead. One page (the
   * API's `Link` pagination is not followed: a page holds far more referrers than an image has).
   */
  async referrers(repository: string, digest: string): Promise<Descriptor[] | undefined> {
    if (!isDigest(digest)) throw new RegistryError(`cannot list referrers of ${JSON.stringify(digest)}: not a digest`);
    const res = await this.send(`/v2/${repository}/referrers/${digest}`, {
      headers: { Accept: MEDIA_TYPES.ociIndex },
      repository,
      action: 'pull',
      idempotent: true,
      ...this.limits('manifest'),
    });
    if (res.status === 404) return undefined;
    this.expect(res, [200], `GET referrers of ${repository}@${digest}`);
    const type = (res.headers.get('content-type') ?? '').split(';')[0].trim();
    if (type !== MEDIA_TYPES.ociIndex) return undefined;
    let index: { manifests?: unknown };
    try {
      index = JSON.parse(res.body.toString('utf8')) as { manifests?: unknown };
    } catch (cause) {
      throw new RegistryError(`${this.host}/${repository}: the referrers of ${digest} are not JSON`, { cause });
    }
    if (!Array.isArray(index.manifests)) throw new RegistryError(`${this.host}/${repository}: the referrers of ${digest} are not an image index`);
    return index.manifests as Descriptor[];
  }

  async putManifest(repository: string, tag: string | undefined, mediaType: string, body: Buffer): Promise<string> {
    const digest = sha256Digest(body);
    const res = await this.send(`/v2/${repository}/manifests/${tag ?? digest}`, {
      method: 'PUT',
      headers: { 'Content-Type': mediaType },
      body,
      repository,
      action: 'pull,push',
      idempotent: true,
      ...this.limits('json'),
    });
    this.expect(res, [200, 201], `PUT manifest ${repository}:${tag ?? digest}`);
    const stored = res.headers.get('docker-content-digest');
    if (stored && stored !== digest) {
      throw new RegistryError(`${this.host}/${repository}:${tag ?? digest}: the registry stored the manifest as ${stored}, expected ${digest}`);
    }
    return digest;
  }

  async getBlob(repository: string, digest: string): Promise<Buffer> {
    const res = await this.send(`/v2/${repository}/blobs/${digest}`, {
      repository,
      action: 'pull',
      idempotent: true,
      crossOriginRedirects: true,
      ...this.limits('blob'),
    });
    if (res.status === 404) throw new RegistryHttpError(`blob ${digest} is not in ${this.host}/${repository}`, 404, 'BLOB_UNKNOWN');
    this.expect(res, [200], `GET blob ${repository}@${digest}`);
    const bytes = res.body;
    if (sha256Digest(bytes) !== digest) {
      throw new RegistryError(`${this.host}/${repository}@${digest}: the blob's bytes hash to ${sha256Digest(bytes)}`);
    }
    return bytes;
  }

  async listTags(repository: string): Promise<string[]> {
    const tags: string[] = [];
    const first = new URL(`/v2/${repository}/tags/list?n=${this.tagsPageSize}`, this.baseUrl);
    const pages = new PageLimit(this.maxTagPages, {
      repeated: (href, read) =>
        new RegistryPaginationError(
          `the tags of ${this.host}/${repository} do not end: the Link header of page ${read} points back to ${href}, a page already read`,
        ),
      tooMany: (href, max) =>
        new RegistryPaginationError(`the tags of ${this.host}/${repository} run past ${max} pages (maxTagPages); the next page would be ${href}`),
    });
    let next: URL | undefined = first;
    while (next) {
      pages.visit(next.href);
      const res = await this.send(next.href, { repository, action: 'pull', idempotent: true, ...this.limits('json') });
      if (res.status === 404) return [];
      this.expect(res, [200], `GET tags of ${repository}`);
      tags.push(...tagsOf(res));
      const link = /<([^>]+)>\s*;\s*rel="?next"?/.exec(res.headers.get('link') ?? '')?.[1];
      next = link === undefined ? undefined : this.nextPage(link, res.url, first);
    }
    return tags;
  }

  /** True when the repository holds the blob. */
  async hasBlob(repository: string, digest: string): Promise<boolean> {
    const res = await this.send(`/v2/${repository}/blobs/${digest}`, {
      method: 'HEAD',
      repository,
      action: 'pull',
      idempotent: true,
      crossOriginRedirects: true,
      ...this.limits('json'),
    });
    if (res.status === 404) return false;
    this.expect(res, [200], `HEAD blob ${repository}@${digest}`);
    return true;
  }

  /**
   * Uploads a blob (monolithic POST + PUT) unless the repository has it already; returns its digest and size.
   * When the connection drops during the PUT, the upload starts again with a new session (after checking
   * whether the first one completed), at most as often as `retry.retries`.
   */
  async pushBlob(repository: string, bytes: Uint8Array): Promise<{ digest: string; size: number }> {
    const digest = sha256Digest(bytes);
    const interrupted = new WeakSet<object>();
    await withRetry(
      async () => {
        if (await this.hasBlob(repository, digest)) return;
        const start = await this.send(`/v2/${repository}/blobs/uploads/`, {
          method: 'POST',
          repository,
          action: 'pull,push',
          idempotent: true,
          ...this.limits('json'),
        });
        this.expect(start, [202], `start blob upload to ${repository}`);
        const url = this.uploadLocation(start, repository);
        url.searchParams.set('digest', digest);
        let res: Answer;
        try {
          res = await this.send(url.toString(), {
            method: 'PUT',
            headers: { 'Content-Type': 'application/octet-stream' },
            body: bytes,
            repository,
            action: 'pull,push',
            idempotent: false,
            ...this.limits('upload'),
          });
        } catch (error) {
          if (typeof error === 'object' && error !== null && isTransientNetworkError(error)) interrupted.add(error);
          throw error;
        }
        this.expect(res, [201], `finish blob upload of ${digest} to ${repository}`);
      },
      { ...this.retry, isRetryable: (error) => typeof error === 'object' && error !== null && interrupted.has(error) },
    );
    return { digest, size: bytes.length };
  }

  /**
   * Makes blob `digest` of `from` available in `repository`: `present` when it is there,
   * `mounted` when the registry mounted it across repositories (`POST …?mount=&from=`,
   * answered 201), else `copied`: the upload session the registry opened instead gets the
   * blob in chunks of `copyChunkBytes` (range reads of the source, `PATCH`es).
   *
   * What it trusts: a present or mounted blob is the registry's, which computed its digest
   * when it was uploaded. A copied blob goes through this client, which checks every byte:
   * the source's size against `size` (its `Content-Range`) and the bytes' sha256 against
   * `digest`, before it completes the upload (the registry checks the digest again when it
   * closes the session). A failed copy cancels its session.
   * @throws BlobMismatchError when the bytes read are not `size` bytes hashing to `digest`
   */
  async copyBlob(from: string, repository: string, digest: string, size: number): Promise<BlobCopy> {
    if (!isDigest(digest)) throw new RegistryError(`cannot copy ${JSON.stringify(digest)}: not a digest`);
    if (!Number.isSafeInteger(size) || size < 0) throw new RegistryError(`cannot copy ${from}@${digest}: its size ${size} is not a byte count`);
    if (size === 0 && digest !== EMPTY_DIGEST) {
      // Zero bytes hash to one digest only: the descriptor contradicts itself.
      throw this.mismatch(from, digest, size, { actualDigest: EMPTY_DIGEST, actualSize: 0 }, `a blob of 0 bytes is ${EMPTY_DIGEST}`);
    }
    if (await this.hasBlob(repository, digest)) return 'present';
    const mount = `/v2/${repository}/blobs/uploads/?mount=${encodeURIComponent(digest)}&from=${encodeURIComponent(from)}`;
    const start = await this.send(mount, { method: 'POST', repository, action: 'pull,push', idempotent: true, ...this.limits('json') });
    if (start.status === 201) return 'mounted';
    this.expect(start, [202], `start blob upload to ${repository}`);
    let session = this.uploadLocation(start, repository);
    const hash = createHash('sha256');
    try {
      for (let offset = 0; offset < size; offset += this.copyChunkBytes) {
        const last = Math.min(size, offset + this.copyChunkBytes) - 1;
        const chunk = await this.readRange(from, digest, size, offset, last);
        hash.update(chunk);
        const res = await this.send(session.href, {
          method: 'PATCH',
          headers: { 'Content-Type': 'application/octet-stream', 'Content-Range': `${offset}-${last}` },
          body: chunk,
          repository,
          action: 'pull,push',
          idempotent: false,
          ...this.limits('upload'),
        });
        this.expect(res, [202], `upload bytes ${offset}-${last} of ${digest} to ${repository}`);
        session = this.uploadLocation(res, repository);
      }
      const actualDigest = `sha256:${hash.digest('hex')}`;
      if (actualDigest !== digest) throw this.mismatch(from, digest, size, { actualDigest, actualSize: size }, `its ${size} bytes hash to ${actualDigest}`);
      session.searchParams.set('digest', digest);
      const done = await this.send(session.href, { method: 'PUT', repository, action: 'pull,push', idempotent: false, ...this.limits('upload') });
      this.expect(done, [201], `finish the copy of ${digest} to ${repository}`);
    } catch (error) {
      await this.send(session.href, { method: 'DELETE', repository, action: 'pull,push', idempotent: true, ...this.limits('json') }).catch(() => undefined);
      throw error;
    }
    return 'copied';
  }

  /** Bytes `offset`..`last` of a blob: a `Range` read (206), or the whole blob (200) when it is that range. */
  private async readRange(repository: string, digest: string, size: number, offset: number, last: number): Promise<Buffer> {
    const length = last - offset + 1;
    const res = await this.send(`/v2/${repository}/blobs/${digest}`, {
      headers: { Range: `bytes=${offset}-${last}` },
      repository,
      action: 'pull',
      idempotent: true,
      crossOriginRedirects: true,
      // A registry that ignores `Range` sends the whole blob: accepted when that is the range asked for.
      maxBytes: length,
      timeoutMs: this.blobTimeoutMs,
      timeoutOption: 'blobTimeoutMs',
    });
    if (res.status === 404) throw new RegistryHttpError(`blob ${digest} is not in ${this.host}/${repository}`, 404, 'BLOB_UNKNOWN');
    if (res.status === 416) {
      // The blob ends before the range: it is shorter than its descriptor says.
      const total = contentRangeTotal(res.headers.get('content-range'));
      throw this.mismatch(repository, digest, size, { actualSize: total ?? offset }, `the registry has ${total ?? `fewer than ${last + 1}`} bytes of it`);
    }
    const whole = res.status === 200 && offset === 0 && res.body.length === size;
    if (!whole) this.expect(res, [206], `GET bytes ${offset}-${last} of ${repository}@${digest}`);
    const total = res.status === 206 ? contentRangeTotal(res.headers.get('content-range')) : undefined;
    if (total !== undefined && total !== size) throw this.mismatch(repository, digest, size, { actualSize: total }, `the registry has ${total} bytes of it`);
    if (res.body.length !== length) {
      throw new RegistryResponseError(`${this.host}/${repository}@${digest}: asked for bytes ${offset}-${last} (${length}), got ${res.body.length}`, res.url);
    }
    return res.body;
  }

  /** What {@link copyBlob} throws when the bytes of `repository@digest` are not what its descriptor says. */
  private mismatch(repository: string, digest: string, size: number, actual: { actualDigest?: string; actualSize: number }, found: string): BlobMismatchError {
    return new BlobMismatchError(
      `${this.host}/${repository}@${digest} is not what its descriptor says: expected ${size} bytes hashing to ${digest}, but ${found}; ` +
        'refused before the copy was completed (the source is damaged: push or build it again)',
      { repository, digest, expectedSize: size, ...actual },
    );
  }

  /** The upload session an answer's `Location` names, on the registry's own origin only. */
  private uploadLocation(res: Answer, repository: string): URL {
    const location = res.headers.get('location');
    if (!location) throw new RegistryError(`${this.host}/${repository}: the blob upload answer has no Location header`);
    const url = new URL(location, res.url);
    if (url.origin !== this.origin) {
      throw new RegistryOriginError(
        `${this.host}/${repository}: the blob upload Location ${url.origin}${url.pathname} is on another origin than the registry ${this.origin}; refusing to send it the credentials and the blob`,
        url.href,
      );
    }
    return url;
  }

  /** Pushes the config and layers of a small image, then its OCI image manifest under `tag`. */
  async pushImage(repository: string, tag: string | undefined, content: ImageContent): Promise<PushedImage> {
    const configBytes = content.config instanceof Uint8Array ? content.config : Buffer.from(JSON.stringify(content.config));
    const config = await this.pushBlob(repository, configBytes);
    const layers: Descriptor[] = [];
    for (const layer of content.layers) {
      const pushed = await this.pushBlob(repository, layer.bytes);
      layers.push({ mediaType: layer.mediaType ?? OCI_LAYER_GZIP_MEDIA_TYPE, ...pushed });
    }
    const manifest: ImageManifest = {
      schemaVersion: 2,
      mediaType: MEDIA_TYPES.ociManifest,
      config: { mediaType: content.configMediaType ?? IMAGE_CONFIG_MEDIA_TYPES[0], ...config },
      layers,
      ...(content.annotations && { annotations: content.annotations }),
    };
    const body = Buffer.from(JSON.stringify(manifest));
    const digest = await this.putManifest(repository, tag, MEDIA_TYPES.ociManifest, body);
    return { digest, mediaType: MEDIA_TYPES.ociManifest, body, manifest, size: body.length };
  }

  /**
   * Deletes a manifest by digest (`DELETE /v2/<name>/manifests/<digest>`), which removes
   * every tag that points at it; a manifest that is gone already (404) is fine.
   * @throws RegistryHttpError with code `UNSUPPORTED` when the registry has deletes switched off (405)
   */
  async deleteManifest(repository: string, digest: string): Promise<void> {
    if (!isDigest(digest)) throw new RegistryError(`cannot delete ${repository}:${digest}: deletes go by digest (sha256:…), never by tag`);
    const res = await this.send(`/v2/${repository}/manifests/${digest}`, {
      method: 'DELETE',
      repository,
      action: 'pull,push',
      idempotent: true,
      ...this.limits('json'),
    });
    if (res.status === 404) return;
    if (res.status === 405) {
      const { code } = registryErrorCode(res.body);
      throw new RegistryHttpError(
        `DELETE manifest ${repository}@${digest} on ${this.host} failed: HTTP 405${code ? ` ${code}` : ''}: deletes are switched off on that registry ` +
          '(for the CNCF distribution registry: storage.delete.enabled: true, or REGISTRY_STORAGE_DELETE_ENABLED=true)',
        405,
        code ?? 'UNSUPPORTED',
      );
    }
    this.expect(res, [202, 200], `DELETE manifest ${repository}@${digest}`);
  }

  /** Deadline and size cap of a kind of request. */
  private limits(kind: 'manifest' | 'json' | 'blob' | 'upload'): Pick<ExchangeOptions, 'maxBytes' | 'timeoutMs' | 'timeoutOption'> {
    if (kind === 'blob' || kind === 'upload') {
      return { maxBytes: kind === 'blob' ? this.maxBlobBytes : this.maxJsonBytes, timeoutMs: this.blobTimeoutMs, timeoutOption: 'blobTimeoutMs' };
    }
    return { maxBytes: kind === 'manifest' ? this.maxManifestBytes : this.maxJsonBytes, timeoutMs: this.timeoutMs, timeoutOption: 'timeoutMs' };
  }

  /** The next page of tags that a `Link` names: only on the registry's origin and the same `tags/list` path. */
  private nextPage(link: string, current: string, first: URL): URL {
    let next: URL;
    try {
      next = new URL(link, current);
    } catch (cause) {
      throw new RegistryResponseError(`the tags/list Link header of ${current} is not a URL: ${JSON.stringify(link.slice(0, EXCERPT_CHARS))}`, current, {
        cause,
      });
    }
    if (next.origin !== this.origin || next.pathname !== first.pathname) {
      throw new RegistryOriginError(
        `the tags/list Link header of ${current} points to ${next.origin}${next.pathname}, not to ${this.origin}${first.pathname}; refusing to follow it (and to send it the credentials)`,
        next.href,
      );
    }
    return next;
  }

  private expect(res: Answer, ok: readonly number[], what: string): void {
    if (ok.includes(res.status)) return;
    const { code, message } = registryErrorCode(res.body);
    const detail = [code, message].filter(Boolean).join(': ');
    const hint = res.status === 401 || res.status === 403 ? ' (check the registry credentials and their permissions)' : '';
    throw new RegistryHttpError(`${what} on ${this.host} failed: HTTP ${res.status}${detail ? ` ${detail}` : ''}${hint}`, res.status, code);
  }

  /**
   * One request to the registry, with retries on 429/5xx (and on dropped connections when it is
   * idempotent) and one more attempt after an auth challenge.
   */
  private async send(pathOrUrl: string, options: SendOptions): Promise<Answer> {
    const url = new URL(pathOrUrl, this.baseUrl);
    if (url.origin !== this.origin) {
      throw new RegistryOriginError(`refusing to send a request for ${this.host} to ${url.origin}, another origin`, url.href);
    }
    const scope = `repository:${options.repository}:${options.action}`;
    const isRetryable = this.retry?.isRetryable ?? isThrottlingError;
    return withRetry(
      async () => {
        let res = await this.exchange(url, options);
        if (res.status === 401) {
          const answered = await this.answerChallenge(res, scope);
          if (answered) res = await this.exchange(url, options);
          if (answered && res.status === 401) {
            throw new RegistryHttpError(
              `${this.host} refused the credentials for ${scope} (${options.method ?? 'GET'} ${url}): check the username and password or token, and its permissions`,
              401,
            );
          }
        }
        if (res.status === 429 || res.status >= 500) {
          const { code, message } = registryErrorCode(res.body);
          throw new RegistryHttpError(
            `${options.method ?? 'GET'} ${url} failed: HTTP ${res.status}${code ? ` ${code}` : ''}${message ? `: ${message}` : ''}`,
            res.status,
            code,
          );
        }
        return res;
      },
      { ...this.retry, isRetryable: (error) => (isTransientNetworkError(error) ? options.idempotent : isRetryable(error)) },
    );
  }

  /** The credentials for a request to the registry's origin, from the last challenge answered. */
  private authorization(scope: string): string | undefined {
    const token = this.tokens.get(scope);
    if (token) return `Bearer ${token}`;
    return this.basic ? this.basicAuthorization() : undefined;
  }

  /**
   * One request and its whole answer within `timeoutMs`, following redirects of GET and HEAD:
   * with credentials on the registry's origin, without them on another origin (only when
   * `crossOriginRedirects`), never from HTTPS to HTTP.
   */
  private async exchange(url: URL, options: SendOptions): Promise<Answer> {
    const method = options.method ?? 'GET';
    const scope = `repository:${options.repository}:${options.action}`;
    const controller = new AbortController();
    const timer = setTimeout(() => controller.abort(), options.timeoutMs);
    let current = url;
    try {
      for (let hop = 0; ; hop++) {
        const headers: Record<string, string> = { ...options.headers };
        const authorization = current.origin === this.origin ? this.authorization(scope) : undefined;
        if (authorization) headers.Authorization = authorization;
        const res = await this.fetchFn(current.href, { method, headers, body: options.body, redirect: 'manual', signal: controller.signal });
        const location = res.headers.get('location');
        if ([301, 302, 303, 307, 308].includes(res.status) && location !== null && (method === 'GET' || method === 'HEAD')) {
          await res.body?.cancel().catch(() => undefined);
          current = this.redirectTarget(current, location, hop, options);
          continue;
        }
        const body = await readBody(
          res,
          res.ok ? options.maxBytes : ERROR_BODY_BYTES,
          res.ok ? 'throw' : 'truncate',
          (size) => new RegistryResponseError(`the answer to ${method} ${current.href} ${size}: more than the ${options.maxBytes} bytes allowed`, current.href),
        );
        return { status: res.status, headers: res.headers, body, url: current.href };
      }
    } catch (cause) {
      if (controller.signal.aborted) {
        throw new RegistryTimeoutError(
          `${method} ${current.pathname} on ${current.host} got no complete answer within ${options.timeoutMs} ms (${options.timeoutOption}): the registry does not answer, or too slowly`,
          current.href,
          options.timeoutMs,
          { cause },
        );
      }
      if (cause instanceof RegistryError) throw cause;
      const code = networkCode(cause);
      throw new RegistryConnectionError(
        `cannot reach the registry at ${this.baseUrl} (${method} ${current.href}${code ? `: ${code}` : ''}): is it running, and is the scheme right (insecure: ${this.baseUrl.startsWith('http:')})?`,
        { cause },
      );
    } finally {
      clearTimeout(timer);
    }
  }

  private redirectTarget(current: URL, location: string, hop: number, options: SendOptions): URL {
    let next: URL;
    try {
      next = new URL(location, current);
    } catch (cause) {
      throw new RegistryResponseError(`${current.href} redirects to ${JSON.stringify(location.slice(0, EXCERPT_CHARS))}, which is not a URL`, current.href, {
        cause,
      });
    }
    if (hop >= MAX_REDIRECTS) throw new RegistryResponseError(`${this.host} redirected ${current.pathname} more than ${MAX_REDIRECTS} times`, current.href);
    if (next.protocol !== 'https:' && !(next.protocol === 'http:' && current.protocol === 'http:')) {
      throw new RegistryOriginError(`${current.href} redirects to ${next.origin}: a redirect may not leave HTTPS`, next.href);
    }
    if (next.origin !== this.origin && !options.crossOriginRedirects) {
      throw new RegistryOriginError(
        `${current.href} redirects to ${next.origin}${next.pathname}, another origin than the registry ${this.origin}; refusing to follow it`,
        next.href,
      );
    }
    return next;
  }

  private basicAuthorization(): string {
    return `Basic ${Buffer.from(`${this.username ?? ''}:${this.password ?? ''}`).toString('base64')}`;
  }

  /** Prepares credentials for a 401 answer; false when there is nothing new to try. */
  private async answerChallenge(res: Answer, scope: string): Promise<boolean> {
    const challenge = parseWwwAuthenticate(res.headers.get('www-authenticate'));
    if (!challenge) return false;
    if (challenge.scheme === 'basic') {
      if (this.basic || this.username === undefined) {
        throw new RegistryHttpError(
          `${this.host} asks for a username and password: ${this.basic ? 'the ones given were refused' : 'pass username and password'}`,
          401,
        );
      }
      this.basic = true;
      return true;
    }
    if (challenge.scheme === 'bearer') {
      if (this.tokens.has(scope)) this.tokens.delete(scope);
      const realm = challenge.params.realm;
      if (!realm) throw new RegistryHttpError(`${this.host} sent a Bearer challenge without a realm`, 401);
      let tokenUrl: URL;
      try {
        tokenUrl = new URL(realm);
      } catch (cause) {
        throw new RegistryResponseError(
          `${this.host} sent a Bearer challenge whose realm is not a URL: ${JSON.stringify(realm.slice(0, EXCERPT_CHARS))}`,
          res.url,
          { cause },
        );
      }
      const problem = tokenRealmProblem(new URL(this.baseUrl), tokenUrl);
      if (problem) throw new RegistryOriginError(`${this.host} asks for a token from ${realm}: refused, ${problem}`, tokenUrl.href);
      if (challenge.params.service) tokenUrl.searchParams.set('service', challenge.params.service);
      tokenUrl.searchParams.set('scope', challenge.params.scope ?? scope);
      this.tokens.set(scope, await this.fetchToken(tokenUrl, realm, scope));
      return true;
    }
    return false;
  }

  /** Asks a token realm for a token (with the credentials, when there are any), within `timeoutMs` and `maxJsonBytes`; redirects are not followed. */
  private async fetchToken(tokenUrl: URL, realm: string, scope: string): Promise<string> {
    const headers: Record<string, string> = {};
    if (this.username !== undefined) headers.Authorization = this.basicAuthorization();
    const controller = new AbortController();
    const timer = setTimeout(() => controller.abort(), this.timeoutMs);
    let status: number;
    let body: Buffer;
    try {
      const res = await this.fetchFn(tokenUrl.toString(), { headers, redirect: 'manual', signal: controller.signal });
      status = res.status;
      body = await readBody(
        res,
        res.ok ? this.maxJsonBytes : ERROR_BODY_BYTES,
        res.ok ? 'throw' : 'truncate',
        (size) =>
          new RegistryResponseError(
            `the answer of the token service ${realm} ${size}: more than the ${this.maxJsonBytes} bytes allowed (maxJsonBytes)`,
            tokenUrl.href,
          ),
      );
    } catch (cause) {
      if (controller.signal.aborted) {
        throw new RegistryTimeoutError(
          `GET ${tokenUrl.pathname} on ${tokenUrl.host} (the token service of ${this.host}) got no complete answer within ${this.timeoutMs} ms (timeoutMs)`,
          tokenUrl.href,
          this.timeoutMs,
          { cause },
        );
      }
      if (cause instanceof RegistryError) throw cause;
      throw new RegistryConnectionError(`cannot reach the token service ${realm} of ${this.host}`, { cause });
    } finally {
      clearTimeout(timer);
    }
    if (status < 200 || status >= 300) {
      throw new RegistryHttpError(`the token service ${realm} of ${this.host} refused ${scope}: HTTP ${status} (check the credentials)`, status);
    }
    const json = parseJson(body, `the token answer of ${this.host}`, realm);
    const token = isObject(json) ? (json.token ?? json.access_token) : undefined;
    if (typeof token !== 'string' || !/^[\x21-\x7e]+$/.test(token)) {
      throw new RegistryResponseError(
        `the token service ${realm} of ${this.host} answered without a token (a string in 'token' or 'access_token'); it sent ${excerpt(body)}`,
        realm,
      );
    }
    return token;
  }
}

/** The tags of a `tags/list` page: `tags` must be a list of valid tags, or null or missing (none). */
function tagsOf(res: Answer): string[] {
  const json = parseJson(res.body, 'the tags list', res.url);
  const tags = isObject(json) ? json.tags : undefined;
  if (isObject(json) && (tags === null || tags === undefined)) return [];
  if (!Array.isArray(tags) || !tags.every((t) => typeof t === 'string' && isTag(t))) {
    throw new RegistryResponseError(`the tags list from ${res.url} is not {"tags": [<tag>, …]}; the registry sent ${excerpt(res.body)}`, res.url);
  }
  return tags as string[];
}

/** The total size a `Content-Range: bytes <first>-<last>/<total>` gives (also the unsatisfied form with `*`); undefined when it gives none. */
function contentRangeTotal(header: string | null): number | undefined {
  const m = /^bytes\s+(?:\d+-\d+|\*)\/(\d+)\s*$/i.exec(header ?? '');
  return m ? Number(m[1]) : undefined;
}

/** The `code` of a network error or of its cause, e.g. `ECONNREFUSED`. */
function networkCode(error: unknown): string | undefined {
  let e: unknown = error;
  for (let depth = 0; depth < 8 && typeof e === 'object' && e !== null; depth++) {
    const code = (e as { code?: unknown }).code;
    if (typeof code === 'string') return code;
    e = (e as { cause?: unknown }).cause;
  }
  return undefined;
}

function positive(value: number | undefined, fallback: number, name: string): number {
  if (value === undefined) return fallback;
  if (!(value > 0) || !Number.isFinite(value)) throw new RegistryError(`OciRegistry ${name} must be a positive number, not ${value}`);
  return value;
}
