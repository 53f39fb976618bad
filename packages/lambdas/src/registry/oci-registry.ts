import { isDigest, sha256Digest } from './digest';
import { Descriptor, IMAGE_CONFIG_MEDIA_TYPES, ImageManifest, MANIFEST_MEDIA_TYPES } from './manifest';
import { parseWwwAuthenticate } from './private/www-authenticate';
import { MEDIA_TYPES, Registry, RegistryError, StoredManifest } from './registry';
import { RetryOptions, withRetry } from './retry';

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
   * How to retry HTTP 429 and 5xx answers.
   * @default - {@link withRetry} defaults: 5 retries, 200 ms base delay
   */
  readonly retry?: RetryOptions;
}

/** An HTTP answer the registry logic did not expect; `status` drives retries, `code` is the registry's error code (e.g. `NAME_UNKNOWN`). */
export class RegistryHttpError extends RegistryError {
  readonly status: number;
  readonly code?: string;
  constructor(message: string, status: number, code?: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = 'RegistryHttpError';
    this.status = status;
    this.code = code;
  }
}

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
}

/** The manifest {@link OciRegistry.pushImage} wrote. */
export interface PushedImage extends StoredManifest {
  readonly manifest: ImageManifest;
  /** Size of the manifest in bytes, for a descriptor. */
  readonly size: number;
}

type Action = 'pull' | 'pull,push';

interface SendOptions {
  readonly method?: string;
  readonly headers?: Record<string, string>;
  readonly body?: Uint8Array;
  /** Repository whose scope a Bearer token needs. */
  readonly repository: string;
  readonly action: Action;
}

function isLoopback(host: string): boolean {
  return /^(localhost|127\.0\.0\.1|\[::1\])(:\d+)?$/.test(host);
}

async function registryErrorCode(res: Response): Promise<{ code?: string; message?: string }> {
  try {
    const json = (await res.json()) as { errors?: Array<{ code?: string; message?: string }> };
    const first = json.errors?.[0];
    return { code: first?.code, message: first?.message };
  } catch {
    return {};
  }
}

/**
 * A client of the OCI distribution HTTP API (global `fetch`): a local
 * `docker-registry` for `dcf local` and tests, or ECR's Docker endpoint. It answers
 * `WWW-Authenticate` challenges: `Basic` with the username and password, `Bearer`
 * by fetching a token from the realm for the repository's scope.
 */
export class OciRegistry implements Registry {
  readonly host: string;
  /** `http://<host>` or `https://<host>`. */
  readonly baseUrl: string;
  private readonly username?: string;
  private readonly password?: string;
  private readonly fetchFn: typeof fetch;
  private readonly retry?: RetryOptions;
  private readonly tagsPageSize: number;
  private basic = false;
  private readonly tokens = new Map<string, string>();

  constructor(props: OciRegistryProps) {
    if (!props.host || /[/\s]/.test(props.host)) {
      throw new RegistryError(`registry host '${props.host}' is invalid: give host[:port] without a scheme or path, e.g. localhost:5000`);
    }
    this.host = props.host;
    this.baseUrl = `${props.insecure ?? isLoopback(props.host) ? 'http' : 'https'}://${props.host}`;
    this.username = props.username;
    this.password = props.password;
    this.fetchFn = props.fetch ?? ((...args) => fetch(...args));
    this.retry = props.retry;
    this.tagsPageSize = props.tagsPageSize ?? 1000;
  }

  async getManifest(repository: string, reference: string): Promise<StoredManifest | undefined> {
    const res = await this.send(`/v2/${repository}/manifests/${reference}`, {
      headers: { Accept: MANIFEST_MEDIA_TYPES.join(', ') },
      repository,
      action: 'pull',
    });
    if (res.status === 404) return undefined;
    await this.expect(res, [200], `GET manifest ${repository}:${reference}`);
    const body = Buffer.from(await res.arrayBuffer());
    const digest = sha256Digest(body);
    const claimed = res.headers.get('docker-content-digest');
    if ((isDigest(reference) && reference !== digest) || (claimed && claimed !== digest)) {
      throw new RegistryError(`${this.host}/${repository}:${reference}: the manifest bytes hash to ${digest}, but the registry calls them ${claimed ?? reference}`);
    }
    const mediaType = (res.headers.get('content-type') ?? '').split(';')[0].trim() || MEDIA_TYPES.ociManifest;
    return { digest, mediaType, body };
  }

  async putManifest(repository: string, tag: string | undefined, mediaType: string, body: Buffer): Promise<string> {
    const digest = sha256Digest(body);
    const res = await this.send(`/v2/${repository}/manifests/${tag ?? digest}`, {
      method: 'PUT',
      headers: { 'Content-Type': mediaType },
      body,
      repository,
      action: 'pull,push',
    });
    await this.expect(res, [200, 201], `PUT manifest ${repository}:${tag ?? digest}`);
    const stored = res.headers.get('docker-content-digest');
    if (stored && stored !== digest) {
      throw new RegistryError(`${this.host}/${repository}:${tag ?? digest}: the registry stored the manifest as ${stored}, expected ${digest}`);
    }
    return digest;
  }

  async getBlob(repository: string, digest: string): Promise<Buffer> {
    const res = await this.send(`/v2/${repository}/blobs/${digest}`, { repository, action: 'pull' });
    if (res.status === 404) throw new RegistryHttpError(`blob ${digest} is not in ${this.host}/${repository}`, 404, 'BLOB_UNKNOWN');
    await this.expect(res, [200], `GET blob ${repository}@${digest}`);
    const bytes = Buffer.from(await res.arrayBuffer());
    if (sha256Digest(bytes) !== digest) {
      throw new RegistryError(`${this.host}/${repository}@${digest}: the blob's bytes hash to ${sha256Digest(bytes)}`);
    }
    return bytes;
  }

  async listTags(repository: string): Promise<string[]> {
    const tags: string[] = [];
    let next: string | undefined = `/v2/${repository}/tags/list?n=${this.tagsPageSize}`;
    while (next) {
      const res = await this.send(next, { repository, action: 'pull' });
      if (res.status === 404) return [];
      await this.expect(res, [200], `GET tags of ${repository}`);
      const json = (await res.json()) as { tags?: string[] | null };
      tags.push(...(json.tags ?? []));
      next = /<([^>]+)>\s*;\s*rel="?next"?/.exec(res.headers.get('link') ?? '')?.[1];
    }
    return tags;
  }

  /** True when the repository holds the blob. */
  async hasBlob(repository: string, digest: string): Promise<boolean> {
    const res = await this.send(`/v2/${repository}/blobs/${digest}`, { method: 'HEAD', repository, action: 'pull' });
    if (res.status === 404) return false;
    await this.expect(res, [200], `HEAD blob ${repository}@${digest}`);
    return true;
  }

  /** Uploads a blob (monolithic POST + PUT) unless the repository has it already; returns its digest and size. */
  async pushBlob(repository: string, bytes: Uint8Array): Promise<{ digest: string; size: number }> {
    const digest = sha256Digest(bytes);
    if (await this.hasBlob(repository, digest)) return { digest, size: bytes.length };
    const start = await this.send(`/v2/${repository}/blobs/uploads/`, { method: 'POST', repository, action: 'pull,push' });
    await this.expect(start, [202], `start blob upload to ${repository}`);
    const location = start.headers.get('location');
    if (!location) throw new RegistryError(`${this.host}/${repository}: the blob upload answer has no Location header`);
    const url = new URL(location, this.baseUrl);
    url.searchParams.set('digest', digest);
    const res = await this.send(url.toString(), {
      method: 'PUT',
      headers: { 'Content-Type': 'application/octet-stream' },
      body: bytes,
      repository,
      action: 'pull,push',
    });
    await this.expect(res, [201], `finish blob upload of ${digest} to ${repository}`);
    return { digest, size: bytes.length };
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
    };
    const body = Buffer.from(JSON.stringify(manifest));
    const digest = await this.putManifest(repository, tag, MEDIA_TYPES.ociManifest, body);
    return { digest, mediaType: MEDIA_TYPES.ociManifest, body, manifest, size: body.length };
  }

  private async expect(res: Response, ok: readonly number[], what: string): Promise<void> {
    if (ok.includes(res.status)) return;
    const { code, message } = await registryErrorCode(res);
    const detail = [code, message].filter(Boolean).join(': ');
    const hint = res.status === 401 || res.status === 403 ? ' (check the registry credentials and their permissions)' : '';
    throw new RegistryHttpError(`${what} on ${this.host} failed: HTTP ${res.status}${detail ? ` ${detail}` : ''}${hint}`, res.status, code);
  }

  /** One request, with retries on 429/5xx and one more attempt after an auth challenge. */
  private async send(pathOrUrl: string, options: SendOptions): Promise<Response> {
    const url = pathOrUrl.startsWith('http') ? pathOrUrl : `${this.baseUrl}${pathOrUrl}`;
    const scope = `repository:${options.repository}:${options.action}`;
    return withRetry(async () => {
      let res = await this.fetchOnce(url, options, scope);
      if (res.status === 401) {
        const answered = await this.answerChallenge(res, scope);
        if (answered) res = await this.fetchOnce(url, options, scope);
        if (answered && res.status === 401) {
          await res.arrayBuffer().catch(() => undefined);
          throw new RegistryHttpError(
            `${this.host} refused the credentials for ${scope} (${options.method ?? 'GET'} ${url}): check the username and password or token, and its permissions`,
            401,
          );
        }
      }
      if (res.status === 429 || res.status >= 500) {
        const { code, message } = await registryErrorCode(res);
        throw new RegistryHttpError(`${options.method ?? 'GET'} ${url} failed: HTTP ${res.status}${code ? ` ${code}` : ''}${message ? `: ${message}` : ''}`, res.status, code);
      }
      return res;
    }, this.retry);
  }

  private async fetchOnce(url: string, options: SendOptions, scope: string): Promise<Response> {
    const headers: Record<string, string> = { ...options.headers };
    const token = this.tokens.get(scope);
    if (token) headers.Authorization = `Bearer ${token}`;
    else if (this.basic) headers.Authorization = this.basicAuthorization();
    try {
      return await this.fetchFn(url, { method: options.method ?? 'GET', headers, body: options.body, redirect: 'follow' });
    } catch (cause) {
      throw new RegistryError(`cannot reach the registry at ${this.baseUrl} (${options.method ?? 'GET'} ${url}): is it running, and is the scheme right (insecure: ${this.baseUrl.startsWith('http:')})?`, { cause });
    }
  }

  private basicAuthorization(): string {
    return `Basic ${Buffer.from(`${this.username ?? ''}:${this.password ?? ''}`).toString('base64')}`;
  }

  /** Prepares credentials for a 401 answer; false when there is nothing new to try. */
  private async answerChallenge(res: Response, scope: string): Promise<boolean> {
    const challenge = parseWwwAuthenticate(res.headers.get('www-authenticate'));
    await res.arrayBuffer().catch(() => undefined);
    if (!challenge) return false;
    if (challenge.scheme === 'basic') {
      if (this.basic || this.username === undefined) {
        throw new RegistryHttpError(`${this.host} asks for a username and password: ${this.basic ? 'the ones given were refused' : 'pass username and password'}`, 401);
      }
      this.basic = true;
      return true;
    }
    if (challenge.scheme === 'bearer') {
      if (this.tokens.has(scope)) this.tokens.delete(scope);
      const realm = challenge.params.realm;
      if (!realm) throw new RegistryHttpError(`${this.host} sent a Bearer challenge without a realm`, 401);
      const tokenUrl = new URL(realm);
      if (challenge.params.service) tokenUrl.searchParams.set('service', challenge.params.service);
      tokenUrl.searchParams.set('scope', challenge.params.scope ?? scope);
      const headers: Record<string, string> = {};
      if (this.username !== undefined) headers.Authorization = this.basicAuthorization();
      let tokenRes: Response;
      try {
        tokenRes = await this.fetchFn(tokenUrl.toString(), { headers });
      } catch (cause) {
        throw new RegistryError(`cannot reach the token service ${realm} of ${this.host}`, { cause });
      }
      if (!tokenRes.ok) {
        throw new RegistryHttpError(`the token service ${realm} of ${this.host} refused ${scope}: HTTP ${tokenRes.status} (check the credentials)`, tokenRes.status);
      }
      const json = (await tokenRes.json()) as { token?: string; access_token?: string };
      const token = json.token ?? json.access_token;
      if (!token) throw new RegistryError(`the token service ${realm} of ${this.host} answered without a token`);
      this.tokens.set(scope, token);
      return true;
    }
    return false;
  }
}
