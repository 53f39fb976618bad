/**
 * The ECR service of the deploy rehearsal, over a real CNCF distribution registry:
 * the JSON API (`AmazonEC2ContainerRegistry_V20150921.<Op>`) for the SDK calls the
 * gateway hands it, and the OCI endpoint (`/v2/…`, as ECR serves it at
 * `<account>.dkr.ecr.<region>.amazonaws.com`) for Docker, BuildKit, the devcontainer
 * CLI and core's `OciRegistry`. Every call is authorized with the ECR action AWS
 * checks for it, on the resource AWS names, and recorded.
 *
 * The upstream registry holds what it can: blobs, manifests (exact bytes) and tags.
 * The front holds what ECR has and the registry has not: which repositories exist
 * and their settings, when each image was pushed, which images exist untagged, their
 * scans, and the account settings (blob mounting).
 */
import { randomUUID } from 'node:crypto';
import type { IncomingMessage, OutgoingHttpHeaders, ServerResponse } from 'node:http';
import { FactoryError, MANIFEST_MEDIA_TYPES, isDigest, mapLimit, sha256Digest } from '@devcontainer-factory/core';
import {
  TAG,
  imageIdProblem,
  imageIdsOf,
  isObject,
  listField,
  maxResultsOf,
  registryIdOf,
  stringField,
  tagStatusOf,
  type ImageId,
  type Json,
} from './ecr/api-input';
import { EcrApiError, accessDenied, accessDeniedMessage, imageNotFound, invalidParameter, quoteImageId, repositoryNotFound } from './ecr/ecr-api-error';
import { ManifestShapeProblem, isScannableImage, manifestFacts, type ManifestFacts } from './ecr/manifest-facts';
import { decodeSegment, forwardToUpstream, parseRoute, readBoundedBody, sendOciError } from './ecr/oci-http';
import { pageOf } from './ecr/page-token';
import { TokenSigner } from './ecr/signed-token';
import { Upstream, UpstreamError, registryErrors, type UpstreamAnswer } from './ecr/upstream';

/** The principal of an ECR API call, as the gateway identified it from the SigV4 credentials. */
export interface EcrPrincipal {
  /** The calling role's ARN. */
  readonly arn: string;
}

/** Decides whether a principal may perform an ECR action on a resource (the rehearsal's IAM model). */
export interface EcrAuthorizer {
  authorize(principal: string, action: string, resource: string): Promise<{ allowed: boolean; why: string }>;
}

/** One authorization the front asked for. */
export interface EcrCall {
  readonly principal: string;
  /** `ecr:<Action>`. */
  readonly action: string;
  /** `arn:aws:ecr:<region>:<account>:repository/<name>`, or `*`. */
  readonly resource: string;
  readonly allowed: boolean;
}

/** An event ECR sends to EventBridge (`aws.ecr`): `ECR Image Action` on push and delete, `ECR Image Scan` when a scan completes. */
export interface EcrEvent {
  readonly version: '0';
  readonly id: string;
  readonly 'detail-type': 'ECR Image Action' | 'ECR Image Scan';
  readonly source: 'aws.ecr';
  readonly account: string;
  /** ISO 8601, to the second, as EventBridge writes it. */
  readonly time: string;
  readonly region: string;
  readonly resources: readonly string[];
  readonly detail: Readonly<Record<string, unknown>>;
}

export interface EcrFrontProps {
  /** `localhost:<port>` of the CNCF registry holding the image data. */
  readonly upstream: string;
  /** The account that owns the registry, e.g. `111111111111`. */
  readonly account: string;
  /** e.g. `eu-west-1`. */
  readonly region: string;
  readonly authorizer: EcrAuthorizer;
  /**
   * Repositories scanned on push (the registry scanning configuration's filters, e.g.
   * `devcontainers/*`, as the gateway reads them from the assembly). A repository whose
   * own `scanOnPush` is set (CreateRepository, PutImageScanningConfiguration) is scanned too.
   * @default - only repositories with their own `scanOnPush`
   */
  readonly scanOnPush?: (repository: string) => boolean;
  /**
   * What a scan reports, by repository and digest, read at each `DescribeImageScanFindings`:
   * the answer's `imageScanFindings` (e.g. `{ findings: [{ name: 'CVE-1', severity: 'HIGH' }] }`),
   * or an object with `imageScanStatus` and/or `imageScanFindings` that replace the
   * answer's (e.g. a FAILED scan, or an off-shape answer for the gate's checks).
   * Passed on as given; `findingSeverityCounts` is counted from `findings` when it is not given.
   * @default - a COMPLETE scan with no findings
   */
  readonly findings?: (repository: string, digest: string) => unknown | undefined;
  /**
   * The repositories that exist before any push (ECR repositories of the assembly).
   * @default - none
   */
  readonly repositories?: readonly string[];
  /**
   * Prefixes of the repository creation templates that apply to `CREATE_ON_PUSH` (e.g.
   * `devcontainers`, which covers `devcontainers/…`; `ROOT` covers every repository): a
   * push to a repository that does not exist creates it when a template covers it and the
   * pusher may `ecr:CreateRepository`; otherwise it fails as ECR fails it (RepositoryNotFoundException, NAME_UNKNOWN).
   * @default - none: pushes need an existing repository
   */
  readonly creationTemplatePrefixes?: readonly string[];
  /**
   * What ECR does with the creation template's own role when a push creates a repository
   * from it (the role ECR assumes to create and tag the repository and to grant its KMS
   * key): called with the repository and the template's prefix before the repository
   * exists; a rejection fails the push as ECR would.
   * @default - nothing beyond the pusher's `ecr:CreateRepository`
   */
  readonly onCreateFromTemplate?: (repository: string, prefix: string) => Promise<void>;
  /**
   * Where clients reach this front, e.g. `http://127.0.0.1:4566`: the base of the URLs of
   * `GetDownloadUrlForLayer` (which come through the JSON API, so the front cannot tell
   * them from the request). Can also be set later with {@link EcrFront.setPublicBaseUrl}.
   * @default - none: GetDownloadUrlForLayer answers ServerException until it is set
   */
  readonly publicBaseUrl?: string;
  /**
   * The account setting `BLOB_MOUNTING` to start with (`PutAccountSetting` changes it).
   * @default false - ECR's default (DISABLED): cross-repository mounts are answered with an upload session
   */
  readonly blobMounting?: boolean;
  /**
   * Called with each event ECR would send to EventBridge; best effort, as ECR's: a
   * callback that throws does not fail the push (see {@link EcrFront.eventFailures}).
   * @default - events are not sent
   */
  readonly onEvent?: (event: EcrEvent) => void;
  /**
   * The clock (push times, token and URL expiry, scan times).
   * @default - the system clock
   */
  readonly now?: () => Date;
  /**
   * Deadline of one exchange with the upstream registry (blob streams: the longest they may idle).
   * @default 30000
   */
  readonly upstreamTimeoutMs?: number;
}

/** Bad props, or a front used before it can answer (no `publicBaseUrl`). */
export class EcrFrontError extends FactoryError {}

/** Limits ECR documents, and the front's own bounds. */
export const ECR_FRONT_LIMITS = {
  /** Largest JSON API request body read, and largest manifest (ECR and the OCI distribution spec: 4 MiB). */
  maxJsonBytes: 4 * 1024 * 1024,
  maxManifestBytes: 4 * 1024 * 1024,
  /** `GetAuthorizationToken`: a token is valid 12 hours. */
  tokenTtlMs: 12 * 60 * 60 * 1000,
  /** A `GetDownloadUrlForLayer` URL is valid 1 hour (the front's choice: ECR's are pre-signed S3 URLs). */
  layerUrlTtlMs: 60 * 60 * 1000,
  /** Image ids of one `BatchGetImage` or `BatchDeleteImage`, layers of one `BatchCheckLayerAvailability`. */
  maxBatch: 100,
  /** `maxResults` of the paginated operations (default 100) and `n` of `tags/list`. */
  maxResults: 1000,
  defaultResults: 100,
  /** Basic scanning scans an image at most once per 24 hours. */
  scanIntervalMs: 24 * 60 * 60 * 1000,
  /** Deadline to read a manifest that a client PUTs. */
  requestBodyTimeoutMs: 30_000,
  /** Concurrent requests to the upstream registry while the front lists a repository. */
  upstreamConcurrency: 8,
} as const;

const TARGET_PREFIX = 'AmazonEC2ContainerRegistry_V20150921';
/** ECR's repository name grammar. */
const REPOSITORY_NAME = /^(?=.{2,256}$)(?:[a-z0-9]+(?:[._-][a-z0-9]+)*\/)*[a-z0-9]+(?:[._-][a-z0-9]+)*$/;
/** Every manifest type, for reads that must see whatever is stored (the registry answers 404 to an Accept that leaves a stored type out). */
const ACCEPT_ALL = [
  ...MANIFEST_MEDIA_TYPES,
  'application/vnd.docker.distribution.manifest.v1+prettyjws',
  'application/vnd.docker.distribution.manifest.v1+json',
].join(', ');
/** The path of the layer URLs of `GetDownloadUrlForLayer` (no repository name can start with `_`). */
const LAYER_URL_PATH = '/v2/_ecr-layer/';
const ACCOUNT_SETTINGS: Readonly<Record<string, readonly string[]>> = {
  BLOB_MOUNTING: ['ENABLED', 'DISABLED'],
  BASIC_SCAN_TYPE_VERSION: ['AWS_NATIVE', 'CLAIR'],
  REGISTRY_POLICY_SCOPE: ['V1', 'V2'],
};
const SEVERITIES = ['CRITICAL', 'HIGH', 'MEDIUM', 'LOW', 'INFORMATIONAL', 'UNDEFINED'];

type TagMutability = 'MUTABLE' | 'IMMUTABLE';

interface ScanRecord {
  readonly status: 'COMPLETE' | 'UNSUPPORTED_IMAGE';
  readonly description: string;
  readonly at: Date;
}

interface ImageRecord {
  readonly digest: string;
  readonly facts: ManifestFacts;
  /** Bytes of the manifest. */
  readonly size: number;
  readonly pushedAt: Date;
  scan?: ScanRecord;
}

interface RepositoryState {
  readonly name: string;
  readonly createdAt: Date;
  tagMutability: TagMutability;
  scanOnPush: boolean;
  /** Every image known to exist (tagged or not), by digest. */
  readonly images: Map<string, ImageRecord>;
}

/** An image as the repository has it now. */
interface ImageEntry {
  readonly record: ImageRecord;
  readonly tags: string[];
}

const epochSeconds = (date: Date) => date.getTime() / 1000;

/** A manifest's media type as a registry answers it (`Content-Type`, without parameters). */
function contentType(headers: { 'content-type'?: string }): string | undefined {
  return headers['content-type']?.split(';')[0].trim() || undefined;
}

/**
 * The ECR front. `handleApi` answers the JSON API for a principal the gateway
 * identified; `handleRegistry` serves the OCI endpoint to clients holding a password of
 * `GetAuthorizationToken`, and the layer URLs of `GetDownloadUrlForLayer`. Call
 * `close()` when done (it closes the connections to the upstream registry).
 */
export class EcrFront {
  private readonly props: EcrFrontProps;
  private readonly upstream: Upstream;
  private readonly signer = new TokenSigner();
  private readonly repositories = new Map<string, RepositoryState>();
  private readonly settings = new Map<string, string>();
  private readonly templatePrefixes: readonly string[];
  private readonly callLog: EcrCall[] = [];
  private readonly failedEvents: { event: EcrEvent; error: unknown }[] = [];
  private readonly locks = new Map<string, Promise<unknown>>();
  private baseUrl?: string;

  constructor(props: EcrFrontProps) {
    if (!/^\d{12}$/.test(props.account)) throw new EcrFrontError(`EcrFront account must be 12 digits, not ${JSON.stringify(props.account)}`);
    if (!/^[a-z]{2}(-[a-z]+)+-\d$/.test(props.region))
      throw new EcrFrontError(`EcrFront region must be a region name such as eu-west-1, not ${JSON.stringify(props.region)}`);
    this.props = props;
    const timeoutMs = props.upstreamTimeoutMs ?? 30_000;
    if (!(timeoutMs > 0)) throw new EcrFrontError(`EcrFront upstreamTimeoutMs must be a positive number of milliseconds, not ${timeoutMs}`);
    try {
      this.upstream = new Upstream(props.upstream, { timeoutMs, idleTimeoutMs: timeoutMs });
    } catch (cause) {
      throw new EcrFrontError(`EcrFront upstream: ${(cause as Error).message}`, { cause });
    }
    this.templatePrefixes = (props.creationTemplatePrefixes ?? []).map((p) => p.replace(/\/+$/, ''));
    for (const name of props.repositories ?? []) {
      if (!REPOSITORY_NAME.test(name)) throw new EcrFrontError(`EcrFront repositories: ${JSON.stringify(name)} is not an ECR repository name`);
      this.repositories.set(name, this.newRepository(name));
    }
    this.settings.set('BLOB_MOUNTING', props.blobMounting ? 'ENABLED' : 'DISABLED');
    this.settings.set('BASIC_SCAN_TYPE_VERSION', 'AWS_NATIVE');
    this.settings.set('REGISTRY_POLICY_SCOPE', 'V2');
    if (props.publicBaseUrl !== undefined) this.setPublicBaseUrl(props.publicBaseUrl);
  }

  /** Every authorization asked for: principal, action, resource, allowed — for the rehearsal's report. */
  get calls(): readonly EcrCall[] {
    return this.callLog;
  }

  /** Events whose `onEvent` threw, with the error. */
  get eventFailures(): readonly { event: EcrEvent; error: unknown }[] {
    return this.failedEvents;
  }

  /** `https://<account>.dkr.ecr.<region>.amazonaws.com`, as `GetAuthorizationToken` names the registry. */
  get proxyEndpoint(): string {
    return `https://${this.props.account}.dkr.ecr.${this.props.region}.amazonaws.com`;
  }

  /** Sets where clients reach this front (`http://host:port`), the base of `GetDownloadUrlForLayer`'s URLs. */
  setPublicBaseUrl(url: string): void {
    let parsed: URL;
    try {
      parsed = new URL(url);
    } catch (cause) {
      throw new EcrFrontError(`EcrFront publicBaseUrl must be a URL such as http://127.0.0.1:4566, not ${JSON.stringify(url)}`, { cause });
    }
    if ((parsed.protocol !== 'http:' && parsed.protocol !== 'https:') || parsed.pathname !== '/' || parsed.search) {
      throw new EcrFrontError(`EcrFront publicBaseUrl must be an origin (http://host:port), not ${JSON.stringify(url)}`);
    }
    this.baseUrl = parsed.origin;
  }

  /** The ARN of a repository of this registry. */
  repositoryArn(name: string, account = this.props.account): string {
    return `arn:aws:ecr:${this.props.region}:${account}:repository/${name}`;
  }

  /** Closes the kept-alive connections to the upstream registry. */
  close(): void {
    this.upstream.close();
  }

  // ---------------------------------------------------------------------------------
  // The JSON API
  // ---------------------------------------------------------------------------------

  /**
   * One call of the ECR JSON API (`X-Amz-Target: AmazonEC2ContainerRegistry_V20150921.<operation>`,
   * JSON 1.1) by an authenticated principal. `body` is the parsed JSON (or its raw bytes,
   * at most 4 MiB). Answers as ECR does: 200 with the JSON answer, or 400 with
   * `{"__type", "message"}` (500 `ServerException` when the upstream registry fails).
   */
  async handleApi(operation: string, body: unknown, principal: EcrPrincipal): Promise<{ status: number; headers: Record<string, string>; body: string }> {
    const headers = { 'content-type': 'application/x-amz-json-1.1', 'x-amzn-requestid': randomUUID() };
    try {
      const op = operation.startsWith(`${TARGET_PREFIX}.`) ? operation.slice(TARGET_PREFIX.length + 1) : operation;
      const input = this.apiInput(body);
      const answer = await this.dispatch(op, input, principal.arn);
      return { status: 200, headers, body: JSON.stringify(answer) };
    } catch (error) {
      const e =
        error instanceof EcrApiError
          ? error
          : new EcrApiError('ServerException', `the rehearsal's ECR front failed: ${error instanceof Error ? error.message : String(error)}`, { cause: error });
      return { status: e.status, headers: { ...headers, 'x-amzn-errortype': e.type }, body: e.toApiBody() };
    }
  }

  private apiInput(body: unknown): Json {
    if (body === undefined || body === null) return {};
    if (typeof body === 'string' || body instanceof Uint8Array) {
      const size = typeof body === 'string' ? Buffer.byteLength(body) : body.length;
      if (size > ECR_FRONT_LIMITS.maxJsonBytes)
        throw new EcrApiError('SerializationException', `the request body is ${size} bytes, over the ${ECR_FRONT_LIMITS.maxJsonBytes} allowed`);
      if (size === 0) return {};
      try {
        return this.apiInput(JSON.parse(typeof body === 'string' ? body : Buffer.from(body).toString('utf8')));
      } catch (cause) {
        if (cause instanceof EcrApiError) throw cause;
        throw new EcrApiError('SerializationException', 'the request body is not JSON', { cause });
      }
    }
    if (!isObject(body)) throw new EcrApiError('SerializationException', 'the request body is not a JSON object');
    return body;
  }

  private dispatch(op: string, input: Json, principal: string): Promise<Json> {
    switch (op) {
      case 'GetAuthorizationToken':
        return this.getAuthorizationToken(principal);
      case 'BatchGetImage':
        return this.batchGetImage(input, principal);
      case 'PutImage':
        return this.putImage(input, principal);
      case 'ListImages':
        return this.listImages(input, principal);
      case 'DescribeImages':
        return this.describeImages(input, principal);
      case 'BatchDeleteImage':
        return this.batchDeleteImage(input, principal);
      case 'GetDownloadUrlForLayer':
        return this.getDownloadUrlForLayer(input, principal);
      case 'BatchCheckLayerAvailability':
        return this.batchCheckLayerAvailability(input, principal);
      case 'DescribeRepositories':
        return this.describeRepositories(input, principal);
      case 'CreateRepository':
        return this.createRepository(input, principal);
      case 'DescribeImageScanFindings':
        return this.describeImageScanFindings(input, principal);
      case 'StartImageScan':
        return this.startImageScan(input, principal);
      case 'PutImageScanningConfiguration':
        return this.putImageScanningConfiguration(input, principal);
      case 'PutImageTagMutability':
        return this.putImageTagMutability(input, principal);
      case 'GetAccountSetting':
      case 'PutAccountSetting':
        return this.accountSetting(op, input, principal);
      default:
        return Promise.reject(
          new EcrApiError(
            'UnknownOperationException',
            `the deploy rehearsal's ECR does not model ${op}: it answers the operations the factory uses (see apps/factory/rehearsal/ecr-front.ts)`,
          ),
        );
    }
  }

  /** Asks the authorizer and records the call; false when denied. */
  private async allowed(principal: string, action: string, resource: string): Promise<{ allowed: boolean; why: string }> {
    const decision = await this.props.authorizer.authorize(principal, action, resource);
    this.callLog.push({ principal, action, resource, allowed: decision.allowed });
    return decision;
  }

  /** Throws AccessDeniedException, in AWS's words, unless the principal may. */
  private async require(principal: string, action: string, resource: string): Promise<void> {
    const decision = await this.allowed(principal, action, resource);
    if (!decision.allowed) throw accessDenied(principal, action, resource, decision.why);
  }

  /** The repository of a request: its name checked, the caller authorized for `action` on it, then found. */
  private async authorizedRepository(input: Json, principal: string, action: string): Promise<RepositoryState> {
    const name = stringField(input, 'repositoryName', true);
    const registryId = registryIdOf(input, this.props.account);
    await this.require(principal, action, this.repositoryArn(name, registryId));
    const repo = registryId === this.props.account ? this.repositories.get(name) : undefined;
    if (!repo) throw repositoryNotFound(name, registryId);
    return repo;
  }

  private async getAuthorizationToken(principal: string): Promise<Json> {
    await this.require(principal, 'ecr:GetAuthorizationToken', '*');
    const expiresAt = new Date(this.now().getTime() + ECR_FRONT_LIMITS.tokenTtlMs);
    const token = this.signer.sign('registry', { p: principal }, expiresAt);
    return {
      authorizationData: [
        { authorizationToken: Buffer.from(`AWS:${token}`).toString('base64'), expiresAt: epochSeconds(expiresAt), proxyEndpoint: this.proxyEndpoint },
      ],
    };
  }

  private async batchGetImage(input: Json, principal: string): Promise<Json> {
    const repo = await this.authorizedRepository(input, principal, 'ecr:BatchGetImage');
    const ids = imageIdsOf(input, 'imageIds', ECR_FRONT_LIMITS.maxBatch);
    const accepted = listField(input, 'acceptedMediaTypes', false, 100)?.map(String);
    const images: Json[] = [];
    const failures: Json[] = [];
    await mapLimit(ids, ECR_FRONT_LIMITS.upstreamConcurrency, async (id) => {
      const problem = imageIdProblem(id);
      if (problem) return void failures.push({ imageId: id, ...problem });
      const reference = id.imageDigest ?? id.imageTag!;
      const res = await this.upstream.fetch('GET', `/v2/${repo.name}/manifests/${reference}`, {
        headers: { accept: accepted?.join(', ') ?? ACCEPT_ALL },
        maxBytes: ECR_FRONT_LIMITS.maxManifestBytes,
      });
      if (res.status === 404) return void failures.push({ imageId: id, failureCode: 'ImageNotFound', failureReason: 'Requested image not found' });
      if (res.status !== 200) throw this.upstreamFailure(res, `GET manifest ${repo.name}:${reference}`);
      const digest = sha256Digest(res.body);
      const facts = manifestFacts(res.body, contentType(res.headers));
      if (id.imageDigest !== undefined && id.imageTag !== undefined && (await this.resolveTag(repo.name, id.imageTag)) !== id.imageDigest) {
        return void failures.push({ imageId: id, failureCode: 'ImageTagDoesNotMatchDigest', failureReason: 'Invalid image tag and digest combination' });
      }
      images.push({
        registryId: this.props.account,
        repositoryName: repo.name,
        imageId: { imageDigest: digest, ...(id.imageTag !== undefined && { imageTag: id.imageTag }) },
        imageManifest: res.body.toString('utf8'),
        imageManifestMediaType: contentType(res.headers) ?? (facts instanceof ManifestShapeProblem ? undefined : facts.mediaType),
      });
    });
    return { images, failures };
  }

  private async putImage(input: Json, principal: string): Promise<Json> {
    const name = stringField(input, 'repositoryName', true);
    const registryId = registryIdOf(input, this.props.account);
    await this.require(principal, 'ecr:PutImage', this.repositoryArn(name, registryId));
    const manifest = stringField(input, 'imageManifest', true);
    const tag = stringField(input, 'imageTag', false);
    if (tag !== undefined && !TAG.test(tag))
      throw invalidParameter('imageTag', 'Member must satisfy regular expression pattern: [a-zA-Z0-9_][a-zA-Z0-9_.-]{0,127}');
    if (registryId !== this.props.account) throw repositoryNotFound(name, registryId);
    const repo = await this.pushTarget(name, principal);
    const written = await this.writeManifest(repo, {
      body: Buffer.from(manifest, 'utf8'),
      mediaType: stringField(input, 'imageManifestMediaType', false),
      tag,
      digest: stringField(input, 'imageDigest', false),
      via: 'api',
    });
    return {
      image: {
        registryId: this.props.account,
        repositoryName: repo.name,
        imageId: { imageDigest: written.digest, ...(tag !== undefined && { imageTag: tag }) },
        imageManifest: manifest,
        imageManifestMediaType: written.mediaType,
      },
    };
  }

  private async listImages(input: Json, principal: string): Promise<Json> {
    const repo = await this.authorizedRepository(input, principal, 'ecr:ListImages');
    const max = maxResultsOf(input, ECR_FRONT_LIMITS.defaultResults, ECR_FRONT_LIMITS.maxResults);
    const status = tagStatusOf(input);
    const ids: { imageDigest: string; imageTag?: string }[] = [];
    for (const entry of (await this.inventory(repo)).values()) {
      if (entry.tags.length === 0 && status !== 'TAGGED') ids.push({ imageDigest: entry.record.digest });
      if (status !== 'UNTAGGED') for (const tag of entry.tags) ids.push({ imageDigest: entry.record.digest, imageTag: tag });
    }
    const key = (id: { imageDigest: string; imageTag?: string }) => `${id.imageDigest} ${id.imageTag ?? ''}`;
    ids.sort((a, b) => (key(a) < key(b) ? -1 : 1));
    const { page, nextToken } = pageOf(ids, key, max, 'ListImages', repo.name, stringField(input, 'nextToken', false));
    return { imageIds: page, ...(nextToken && { nextToken }) };
  }

  private async describeImages(input: Json, principal: string): Promise<Json> {
    const repo = await this.authorizedRepository(input, principal, 'ecr:DescribeImages');
    const inventory = await this.inventory(repo);
    const requested = input.imageIds === undefined || input.imageIds === null ? undefined : imageIdsOf(input, 'imageIds', ECR_FRONT_LIMITS.maxBatch);
    if (requested) {
      if (input.nextToken !== undefined || input.maxResults !== undefined)
        throw invalidParameter('imageIds', 'nextToken and maxResults cannot be used with imageIds');
      const details: Json[] = [];
      for (const id of requested) {
        const problem = imageIdProblem(id);
        if (problem) throw new EcrApiError('InvalidParameterException', `Invalid parameter at 'imageIds': ${problem.failureReason}`);
        const digest = id.imageDigest ?? [...inventory.values()].find((e) => e.tags.includes(id.imageTag!))?.record.digest;
        const entry = digest === undefined ? undefined : inventory.get(digest);
        if (!entry || (id.imageTag !== undefined && !entry.tags.includes(id.imageTag))) throw imageNotFound(id, repo.name, this.props.account);
        if (!details.some((d) => d.imageDigest === entry.record.digest)) details.push(this.imageDetail(repo, entry, inventory));
      }
      return { imageDetails: details };
    }
    const status = tagStatusOf(input);
    const entries = [...inventory.values()]
      .filter((e) => (status === 'TAGGED' ? e.tags.length > 0 : status === 'UNTAGGED' ? e.tags.length === 0 : true))
      .sort((a, b) => (a.record.digest < b.record.digest ? -1 : 1));
    const { page, nextToken } = pageOf(
      entries,
      (e) => e.record.digest,
      maxResultsOf(input, ECR_FRONT_LIMITS.defaultResults, ECR_FRONT_LIMITS.maxResults),
      'DescribeImages',
      repo.name,
      stringField(input, 'nextToken', false),
    );
    return { imageDetails: page.map((e) => this.imageDetail(repo, e, inventory)), ...(nextToken && { nextToken }) };
  }

  /** An image as `DescribeImages` describes it; an index's size is the largest of the images it lists. */
  private imageDetail(repo: RepositoryState, entry: ImageEntry, inventory: ReadonlyMap<string, ImageEntry>): Json {
    const { record } = entry;
    const size =
      record.facts.kind === 'index'
        ? Math.max(0, ...record.facts.children.map((d) => inventory.get(d)?.record.facts.layersSize ?? 0))
        : record.facts.layersSize;
    const scan = record.scan;
    return {
      registryId: this.props.account,
      repositoryName: repo.name,
      imageDigest: record.digest,
      ...(entry.tags.length > 0 && { imageTags: [...entry.tags].sort() }),
      imageSizeInBytes: size,
      imagePushedAt: epochSeconds(record.pushedAt),
      imageManifestMediaType: record.facts.mediaType,
      ...(record.facts.configMediaType && { artifactMediaType: record.facts.configMediaType }),
      ...(record.facts.subject && { subjectManifestDigest: record.facts.subject }),
      ...(scan && { imageScanStatus: { status: scan.status, description: scan.description } }),
      ...(scan?.status === 'COMPLETE' && {
        imageScanFindingsSummary: {
          imageScanCompletedAt: epochSeconds(scan.at),
          vulnerabilitySourceUpdatedAt: epochSeconds(scan.at),
          findingSeverityCounts: this.severityCounts(this.scanAnswer(repo.name, record.digest).findings),
        },
      }),
      imageStatus: 'ACTIVE',
    };
  }

  private async batchDeleteImage(input: Json, principal: string): Promise<Json> {
    const repo = await this.authorizedRepository(input, principal, 'ecr:BatchDeleteImage');
    const ids = imageIdsOf(input, 'imageIds', ECR_FRONT_LIMITS.maxBatch);
    return this.deleteImages(repo, ids);
  }

  /**
   * Deletes images as `BatchDeleteImage` does, one id after the other (so that an index
   * deleted first frees the images it listed): by digest, the image and every tag of it;
   * by tag, that tag, and the image with it when it was its last. An image that an index of
   * the repository lists is not deleted (`ImageReferencedByManifestList`).
   */
  private deleteImages(repo: RepositoryState, ids: readonly ImageId[]): Promise<{ imageIds: ImageId[]; failures: Json[] }> {
    return this.exclusive(repo.name, async () => {
      const inventory = await this.inventory(repo);
      const deleted: ImageId[] = [];
      const failures: Json[] = [];
      const fail = (imageId: ImageId, failureCode: string, failureReason: string) => failures.push({ imageId, failureCode, failureReason });
      for (const id of ids) {
        const problem = imageIdProblem(id);
        if (problem) {
          failures.push({ imageId: id, ...problem });
          continue;
        }
        const digest = id.imageDigest ?? [...inventory.values()].find((e) => e.tags.includes(id.imageTag!))?.record.digest;
        const entry = digest === undefined ? undefined : inventory.get(digest);
        if (!entry) {
          fail(id, 'ImageNotFound', 'Requested image not found');
          continue;
        }
        if (id.imageTag !== undefined && !entry.tags.includes(id.imageTag)) {
          fail(
            id,
            id.imageDigest !== undefined ? 'ImageTagDoesNotMatchDigest' : 'ImageNotFound',
            id.imageDigest !== undefined ? 'Invalid image tag and digest combination' : 'Requested image not found',
          );
          continue;
        }
        const untagOnly = id.imageTag !== undefined && entry.tags.length > 1;
        if (untagOnly) {
          await this.untag(repo, entry, id.imageTag!);
          entry.tags.splice(entry.tags.indexOf(id.imageTag!), 1);
          deleted.push({ imageDigest: entry.record.digest, imageTag: id.imageTag });
          this.emit('ECR Image Action', {
            result: 'SUCCESS',
            'repository-name': repo.name,
            'image-digest': entry.record.digest,
            'action-type': 'DELETE',
            'image-tag': id.imageTag,
          });
          continue;
        }
        const parents = [...inventory.values()].filter((e) => e.record.digest !== entry.record.digest && e.record.facts.children.includes(entry.record.digest));
        if (parents.length > 0) {
          fail(id, 'ImageReferencedByManifestList', `Requested image referenced by manifest list: [${parents.map((p) => p.record.digest).join(', ')}]`);
          continue;
        }
        const res = await this.upstream.fetch('DELETE', `/v2/${repo.name}/manifests/${entry.record.digest}`, { maxBytes: 64 * 1024 });
        if (res.status !== 202 && res.status !== 200 && res.status !== 404)
          throw this.upstreamFailure(res, `DELETE manifest ${repo.name}@${entry.record.digest}`);
        inventory.delete(entry.record.digest);
        repo.images.delete(entry.record.digest);
        if (entry.tags.length === 0) deleted.push({ imageDigest: entry.record.digest });
        for (const tag of entry.tags) deleted.push({ imageDigest: entry.record.digest, imageTag: tag });
        for (const tag of entry.tags.length > 0 ? entry.tags : [undefined]) {
          this.emit('ECR Image Action', {
            result: 'SUCCESS',
            'repository-name': repo.name,
            'image-digest': entry.record.digest,
            'action-type': 'DELETE',
            ...(tag !== undefined && { 'image-tag': tag }),
          });
        }
      }
      return { imageIds: deleted, failures };
    });
  }

  /**
   * Removes one tag of an image that keeps others. The CNCF registry cannot delete a tag
   * alone: the manifest is deleted (with its tags) and put back under the tags it keeps.
   */
  private async untag(repo: RepositoryState, entry: ImageEntry, tag: string): Promise<void> {
    const digest = entry.record.digest;
    const stored = await this.upstream.fetch('GET', `/v2/${repo.name}/manifests/${digest}`, {
      headers: { accept: ACCEPT_ALL },
      maxBytes: ECR_FRONT_LIMITS.maxManifestBytes,
    });
    if (stored.status !== 200) throw this.upstreamFailure(stored, `GET manifest ${repo.name}@${digest}`);
    const mediaType = contentType(stored.headers) ?? entry.record.facts.mediaType;
    const removed = await this.upstream.fetch('DELETE', `/v2/${repo.name}/manifests/${digest}`, { maxBytes: 64 * 1024 });
    if (removed.status !== 202 && removed.status !== 200) throw this.upstreamFailure(removed, `DELETE manifest ${repo.name}@${digest}`);
    for (const ref of [digest, ...entry.tags.filter((t) => t !== tag)]) {
      const put = await this.upstream.fetch('PUT', `/v2/${repo.name}/manifests/${ref}`, {
        headers: { 'content-type': mediaType },
        body: stored.body,
        maxBytes: 64 * 1024,
      });
      if (put.status !== 201) throw this.upstreamFailure(put, `PUT manifest ${repo.name}:${ref} (putting back the tags of ${digest} that stay)`);
    }
  }

  private async getDownloadUrlForLayer(input: Json, principal: string): Promise<Json> {
    const repo = await this.authorizedRepository(input, principal, 'ecr:GetDownloadUrlForLayer');
    const digest = stringField(input, 'layerDigest', true);
    if (!isDigest(digest)) throw invalidParameter('layerDigest', "Member must satisfy regular expression pattern: '[a-zA-Z0-9-_+.]+:[a-fA-F0-9]+'");
    if ((await this.blobSize(repo.name, digest)) === undefined) {
      throw new EcrApiError(
        'LayersNotFoundException',
        `The layer with digest '${digest}' does not exist in the repository with name '${repo.name}' in the registry with id '${this.props.account}'`,
      );
    }
    if (!this.baseUrl)
      throw new EcrApiError(
        'ServerException',
        'the ECR front has no publicBaseUrl, so it cannot hand out layer URLs: pass publicBaseUrl or call setPublicBaseUrl()',
      );
    const token = this.signer.sign('layer', { r: repo.name, d: digest }, new Date(this.now().getTime() + ECR_FRONT_LIMITS.layerUrlTtlMs));
    return { downloadUrl: `${this.baseUrl}${LAYER_URL_PATH}${token}`, layerDigest: digest };
  }

  private async batchCheckLayerAvailability(input: Json, principal: string): Promise<Json> {
    const repo = await this.authorizedRepository(input, principal, 'ecr:BatchCheckLayerAvailability');
    const digests = listField(input, 'layerDigests', true, ECR_FRONT_LIMITS.maxBatch).map(String);
    const layers: Json[] = [];
    const failures: Json[] = [];
    await mapLimit(digests, ECR_FRONT_LIMITS.upstreamConcurrency, async (digest) => {
      if (!isDigest(digest)) return void failures.push({ layerDigest: digest, failureCode: 'InvalidLayerDigest', failureReason: 'Invalid layer digest' });
      const size = await this.blobSize(repo.name, digest);
      if (size === undefined) return void failures.push({ layerDigest: digest, failureCode: 'MissingLayerDigest', failureReason: 'Could not find layer' });
      layers.push({ layerDigest: digest, layerAvailability: 'AVAILABLE', layerSize: size });
    });
    return { layers, failures };
  }

  private async describeRepositories(input: Json, principal: string): Promise<Json> {
    const registryId = registryIdOf(input, this.props.account);
    const names = listField(input, 'repositoryNames', false, 100)?.map(String);
    if (names) {
      if (input.nextToken !== undefined || input.maxResults !== undefined)
        throw invalidParameter('repositoryNames', 'nextToken and maxResults cannot be used with repositoryNames');
      const found: Json[] = [];
      for (const name of names) {
        await this.require(principal, 'ecr:DescribeRepositories', this.repositoryArn(name, registryId));
        const repo = registryId === this.props.account ? this.repositories.get(name) : undefined;
        if (!repo) throw repositoryNotFound(name, registryId);
        found.push(this.repositoryJson(repo));
      }
      return { repositories: found };
    }
    // Without names, IAM is asked about every repository of the registry.
    await this.require(principal, 'ecr:DescribeRepositories', this.repositoryArn('*', registryId));
    const all = registryId === this.props.account ? [...this.repositories.values()].sort((a, b) => (a.name < b.name ? -1 : 1)) : [];
    const { page, nextToken } = pageOf(
      all,
      (r) => r.name,
      maxResultsOf(input, ECR_FRONT_LIMITS.defaultResults, ECR_FRONT_LIMITS.maxResults),
      'DescribeRepositories',
      registryId,
      stringField(input, 'nextToken', false),
    );
    return { repositories: page.map((r) => this.repositoryJson(r)), ...(nextToken && { nextToken }) };
  }

  private repositoryJson(repo: RepositoryState): Json {
    return {
      repositoryArn: this.repositoryArn(repo.name),
      registryId: this.props.account,
      repositoryName: repo.name,
      repositoryUri: `${this.props.account}.dkr.ecr.${this.props.region}.amazonaws.com/${repo.name}`,
      createdAt: epochSeconds(repo.createdAt),
      imageTagMutability: repo.tagMutability,
      imageScanningConfiguration: { scanOnPush: repo.scanOnPush },
      encryptionConfiguration: { encryptionType: 'AES256' },
    };
  }

  private async createRepository(input: Json, principal: string): Promise<Json> {
    const name = stringField(input, 'repositoryName', true);
    const registryId = registryIdOf(input, this.props.account);
    await this.require(principal, 'ecr:CreateRepository', this.repositoryArn(name, registryId));
    if (!REPOSITORY_NAME.test(name)) {
      throw invalidParameter(
        'repositoryName',
        "Member must satisfy regular expression pattern: '(?:[a-z0-9]+(?:[._-][a-z0-9]+)*/)*[a-z0-9]+(?:[._-][a-z0-9]+)*'",
      );
    }
    if (registryId !== this.props.account)
      throw new EcrApiError('InvalidParameterException', `the rehearsal's registry is ${this.props.account}; it cannot create repositories in ${registryId}`);
    if (this.repositories.has(name))
      throw new EcrApiError('RepositoryAlreadyExistsException', `The repository with name '${name}' already exists in the registry with id '${registryId}'`);
    const repo = this.newRepository(name);
    repo.tagMutability = this.mutabilityOf(input);
    const scanning = input.imageScanningConfiguration;
    repo.scanOnPush = isObject(scanning) && scanning.scanOnPush === true;
    this.repositories.set(name, repo);
    return { repository: this.repositoryJson(repo) };
  }

  private mutabilityOf(input: Json): TagMutability {
    const value = input.imageTagMutability ?? 'MUTABLE';
    if (value !== 'MUTABLE' && value !== 'IMMUTABLE') {
      throw invalidParameter(
        'imageTagMutability',
        'Member must satisfy enum value set: [MUTABLE, IMMUTABLE] (the rehearsal does not model the *_WITH_EXCLUSION settings)',
      );
    }
    return value;
  }

  private async putImageTagMutability(input: Json, principal: string): Promise<Json> {
    const repo = await this.authorizedRepository(input, principal, 'ecr:PutImageTagMutability');
    if (input.imageTagMutability === undefined) throw invalidParameter('imageTagMutability', 'Member must not be null');
    repo.tagMutability = this.mutabilityOf(input);
    return { registryId: this.props.account, repositoryName: repo.name, imageTagMutability: repo.tagMutability };
  }

  private async putImageScanningConfiguration(input: Json, principal: string): Promise<Json> {
    const repo = await this.authorizedRepository(input, principal, 'ecr:PutImageScanningConfiguration');
    const scanning = input.imageScanningConfiguration;
    if (!isObject(scanning)) throw invalidParameter('imageScanningConfiguration', 'Member must not be null');
    repo.scanOnPush = scanning.scanOnPush === true;
    return { registryId: this.props.account, repositoryName: repo.name, imageScanningConfiguration: { scanOnPush: repo.scanOnPush } };
  }

  private async accountSetting(op: 'GetAccountSetting' | 'PutAccountSetting', input: Json, principal: string): Promise<Json> {
    await this.require(principal, `ecr:${op}`, '*');
    const name = stringField(input, 'name', true);
    const allowed = ACCOUNT_SETTINGS[name];
    if (!allowed) throw invalidParameter('name', `Member must be one of [${Object.keys(ACCOUNT_SETTINGS).join(', ')}]`);
    if (op === 'PutAccountSetting') {
      const value = stringField(input, 'value', true);
      if (!allowed.includes(value)) throw invalidParameter('value', `Member must be one of [${allowed.join(', ')}] for ${name}`);
      this.settings.set(name, value);
    }
    return { name, value: this.settings.get(name) };
  }

  /** The image an `imageId` names in a repository, with the tag it was asked by; ImageNotFoundException when there is none. */
  private async imageOf(repo: RepositoryState, input: Json): Promise<{ id: ImageId; record: ImageRecord }> {
    const raw = input.imageId;
    if (!isObject(raw)) throw invalidParameter('imageId', 'Member must not be null');
    const id: ImageId = {
      ...(typeof raw.imageDigest === 'string' && { imageDigest: raw.imageDigest }),
      ...(typeof raw.imageTag === 'string' && { imageTag: raw.imageTag }),
    };
    const problem = imageIdProblem(id);
    if (problem) throw new EcrApiError('InvalidParameterException', `Invalid parameter at 'imageId': ${problem.failureReason}`);
    const digest = id.imageDigest ?? (await this.resolveTag(repo.name, id.imageTag!));
    if (digest === undefined || (id.imageTag !== undefined && (await this.resolveTag(repo.name, id.imageTag)) !== digest))
      throw imageNotFound(id, repo.name, this.props.account);
    const record = repo.images.get(digest) ?? (await this.learn(repo, digest));
    if (!record) throw imageNotFound(id, repo.name, this.props.account);
    return { id, record };
  }

  private async describeImageScanFindings(input: Json, principal: string): Promise<Json> {
    const repo = await this.authorizedRepository(input, principal, 'ecr:DescribeImageScanFindings');
    const { id, record } = await this.imageOf(repo, input);
    const scan = record.scan;
    if (!scan) {
      throw new EcrApiError(
        'ScanNotFoundException',
        `Image scan does not exist for the image with '${quoteImageId(id)}' in the repository with name '${repo.name}' in the registry with id '${this.props.account}'`,
      );
    }
    const max = maxResultsOf(input, ECR_FRONT_LIMITS.defaultResults, ECR_FRONT_LIMITS.maxResults);
    const head = {
      registryId: this.props.account,
      repositoryName: repo.name,
      imageId: { imageDigest: record.digest, ...(id.imageTag !== undefined && { imageTag: id.imageTag }) },
    };
    if (scan.status !== 'COMPLETE') return { ...head, imageScanStatus: { status: scan.status, description: scan.description } };
    const answer = this.scanAnswer(repo.name, record.digest);
    if (answer.replaced) return { ...head, ...answer.replaced };
    const nextToken = stringField(input, 'nextToken', false);
    const offset = nextToken === undefined ? 0 : Number(/^o(\d+)$/.exec(Buffer.from(nextToken, 'base64url').toString('utf8'))?.[1] ?? NaN);
    if (!Number.isSafeInteger(offset)) throw invalidParameter('nextToken', 'Invalid NextToken');
    const findings: Json = { ...answer.findingsObject };
    let more = false;
    for (const key of ['findings', 'enhancedFindings']) {
      const list = answer.findingsObject[key];
      if (!Array.isArray(list)) continue;
      findings[key] = list.slice(offset, offset + max);
      more ||= list.length > offset + max;
    }
    return {
      ...head,
      imageScanStatus: { status: 'COMPLETE', description: scan.description },
      imageScanFindings: {
        imageScanCompletedAt: epochSeconds(scan.at),
        vulnerabilitySourceUpdatedAt: epochSeconds(scan.at),
        findingSeverityCounts: this.severityCounts(answer.findings),
        ...findings,
      },
      ...(more && { nextToken: Buffer.from(`o${offset + max}`).toString('base64url') }),
    };
  }

  /**
   * What `findings()` gives for an image: the whole answer's fields when it names
   * `imageScanStatus` or `imageScanFindings`, else the `imageScanFindings` object (a
   * COMPLETE scan with no findings when it gives nothing).
   */
  private scanAnswer(repository: string, digest: string): { replaced?: Json; findingsObject: Json; findings: readonly unknown[] } {
    const given = this.props.findings?.(repository, digest);
    if (isObject(given) && ('imageScanStatus' in given || 'imageScanFindings' in given)) {
      const inner = isObject(given.imageScanFindings) ? given.imageScanFindings : {};
      return { replaced: given, findingsObject: inner, findings: Array.isArray(inner.findings) ? inner.findings : [] };
    }
    const findingsObject: Json = given === undefined ? { findings: [] } : isObject(given) ? given : { findings: given };
    const list = [findingsObject.findings, findingsObject.enhancedFindings].flatMap((l) => (Array.isArray(l) ? l : []));
    return { findingsObject, findings: list };
  }

  private severityCounts(findings: readonly unknown[]): Json {
    const counts: Record<string, number> = {};
    for (const f of findings) {
      const severity = isObject(f) && typeof f.severity === 'string' ? f.severity : undefined;
      if (severity && SEVERITIES.includes(severity)) counts[severity] = (counts[severity] ?? 0) + 1;
    }
    return counts;
  }

  private async startImageScan(input: Json, principal: string): Promise<Json> {
    const repo = await this.authorizedRepository(input, principal, 'ecr:StartImageScan');
    const { id, record } = await this.imageOf(repo, input);
    if (!isScannableImage(record.facts)) {
      throw new EcrApiError(
        'UnsupportedImageTypeException',
        `The image with imageId ${quoteImageId(id)} is of a type basic scanning does not support (${record.facts.mediaType}, config ${record.facts.configMediaType ?? 'none'})`,
      );
    }
    if (record.scan && this.now().getTime() - record.scan.at.getTime() < ECR_FRONT_LIMITS.scanIntervalMs) {
      throw new EcrApiError('LimitExceededException', 'The scan quota per image has been exceeded. Wait and try again.');
    }
    this.scan(repo, record);
    return {
      registryId: this.props.account,
      repositoryName: repo.name,
      imageId: { imageDigest: record.digest, ...(id.imageTag !== undefined && { imageTag: id.imageTag }) },
      imageScanStatus: { status: 'IN_PROGRESS' },
    };
  }

  // ---------------------------------------------------------------------------------
  // Images: the upstream registry's tags and manifests, the front's records
  // ---------------------------------------------------------------------------------

  private newRepository(name: string): RepositoryState {
    return { name, createdAt: this.now(), tagMutability: 'MUTABLE', scanOnPush: false, images: new Map() };
  }

  private now(): Date {
    return this.props.now?.() ?? new Date();
  }

  /** Runs `work` alone among the writes to one repository. */
  private exclusive<T>(repository: string, work: () => Promise<T>): Promise<T> {
    const before = this.locks.get(repository) ?? Promise.resolve();
    const run = before.then(work, work);
    const settled = run.then(
      () => undefined,
      () => undefined,
    );
    this.locks.set(repository, settled);
    void settled.then(() => {
      if (this.locks.get(repository) === settled) this.locks.delete(repository);
    });
    return run;
  }

  /** The repository a push writes to: an existing one, or one its creation template creates (CREATE_ON_PUSH) for a pusher who may `ecr:CreateRepository`. */
  private async pushTarget(name: string, principal: string): Promise<RepositoryState> {
    const existing = this.repositories.get(name);
    if (existing) return existing;
    // ECR applies the most specific template: the longest prefix that covers the name, ROOT last.
    const template =
      this.templatePrefixes.filter((p) => name.startsWith(`${p}/`)).sort((a, b) => b.length - a.length)[0] ?? this.templatePrefixes.find((p) => p === 'ROOT');
    if (!template || !REPOSITORY_NAME.test(name)) throw repositoryNotFound(name, this.props.account);
    await this.require(principal, 'ecr:CreateRepository', this.repositoryArn(name));
    if (this.props.onCreateFromTemplate && !this.repositories.has(name)) await this.props.onCreateFromTemplate(name, template);
    return this.repositories.get(name) ?? this.repositories.set(name, this.newRepository(name)).get(name)!;
  }

  /** Every image of a repository now: its tags from the upstream registry, and the untagged images the front knows of that are still there. */
  private async inventory(repo: RepositoryState): Promise<Map<string, ImageEntry>> {
    const tags = await this.upstreamTags(repo.name);
    const resolved = await mapLimit(tags, ECR_FRONT_LIMITS.upstreamConcurrency, async (tag) => [tag, await this.resolveTag(repo.name, tag)] as const);
    const byDigest = new Map<string, string[]>();
    for (const [tag, digest] of resolved) if (digest) byDigest.set(digest, [...(byDigest.get(digest) ?? []), tag]);
    const untagged = [...repo.images.keys()].filter((d) => !byDigest.has(d));
    await mapLimit(untagged, ECR_FRONT_LIMITS.upstreamConcurrency, async (digest) => {
      if ((await this.resolveTag(repo.name, digest)) === undefined) repo.images.delete(digest);
      else byDigest.set(digest, []);
    });
    const entries = new Map<string, ImageEntry>();
    await mapLimit([...byDigest.keys()], ECR_FRONT_LIMITS.upstreamConcurrency, async (digest) => {
      const record = repo.images.get(digest) ?? (await this.learn(repo, digest));
      if (record) entries.set(digest, { record, tags: byDigest.get(digest)! });
    });
    return new Map([...entries.entries()].sort(([a], [b]) => (a < b ? -1 : 1)));
  }

  /** Records an image the front has not seen pushed (it was in the upstream registry already); undefined when it is not there. */
  private async learn(repo: RepositoryState, digest: string): Promise<ImageRecord | undefined> {
    const res = await this.upstream.fetch('GET', `/v2/${repo.name}/manifests/${digest}`, {
      headers: { accept: ACCEPT_ALL },
      maxBytes: ECR_FRONT_LIMITS.maxManifestBytes,
    });
    if (res.status === 404) return undefined;
    if (res.status !== 200) throw this.upstreamFailure(res, `GET manifest ${repo.name}@${digest}`);
    const mediaType = contentType(res.headers);
    const facts = manifestFacts(res.body, mediaType);
    const record: ImageRecord = {
      digest,
      size: res.body.length,
      pushedAt: this.now(),
      facts:
        facts instanceof ManifestShapeProblem
          ? { kind: 'image', mediaType: mediaType ?? 'application/octet-stream', children: [], blobs: [], layersSize: 0 }
          : facts,
    };
    return repo.images.get(digest) ?? (repo.images.set(digest, record), record);
  }

  private async upstreamTags(repository: string): Promise<string[]> {
    const res = await this.upstream.fetch('GET', `/v2/${repository}/tags/list`, { maxBytes: 16 * 1024 * 1024 });
    if (res.status === 404) return [];
    if (res.status !== 200) throw this.upstreamFailure(res, `GET tags of ${repository}`);
    const json = JSON.parse(res.body.toString('utf8')) as { tags?: unknown };
    return Array.isArray(json.tags) ? json.tags.filter((t): t is string => typeof t === 'string') : [];
  }

  /** The digest a tag (or digest) names in the upstream registry; undefined when none. */
  private async resolveTag(repository: string, reference: string): Promise<string | undefined> {
    const res = await this.upstream.fetch('HEAD', `/v2/${repository}/manifests/${reference}`, { headers: { accept: ACCEPT_ALL }, maxBytes: 0 });
    if (res.status === 404) return undefined;
    if (res.status !== 200) throw this.upstreamFailure(res, `HEAD manifest ${repository}:${reference}`);
    const digest = res.headers['docker-content-digest'];
    if (typeof digest !== 'string' || !isDigest(digest))
      throw new UpstreamError(`the upstream registry answered HEAD ${repository}:${reference} without a Docker-Content-Digest`);
    return digest;
  }

  private async blobSize(repository: string, digest: string): Promise<number | undefined> {
    const res = await this.upstream.fetch('HEAD', `/v2/${repository}/blobs/${digest}`, { maxBytes: 0 });
    if (res.status === 404) return undefined;
    if (res.status !== 200) throw this.upstreamFailure(res, `HEAD blob ${repository}@${digest}`);
    return Number(res.headers['content-length'] ?? 0);
  }

  private upstreamFailure(res: UpstreamAnswer, what: string): EcrApiError {
    const errors = registryErrors(res.body);
    const detail = errors.map((e) => `${e.code}: ${e.message}`).join('; ') || res.body.subarray(0, 200).toString('utf8');
    return new EcrApiError('ServerException', `the rehearsal's upstream registry answered ${what} with HTTP ${res.status}${detail ? ` (${detail})` : ''}`);
  }

  /**
   * Stores a manifest as `PutImage` (and a manifest PUT on the OCI endpoint) does: the
   * digest given must be the bytes'; the media type is the one given, else the
   * manifest's; a tag that already names these bytes is `ImageAlreadyExistsException`
   * through the API (a repeat PUT on the OCI endpoint is fine); an immutable repository
   * refuses to move a tag; an index must list images the repository has
   * (ReferencedImagesNotFoundException), an image must have its layers
   * (LayersNotFoundException, from the upstream registry's check). A new image is scanned
   * when the repository is scanned on push, and ECR's push event is sent.
   */
  private async writeManifest(
    repo: RepositoryState,
    input: { body: Buffer; mediaType?: string; tag?: string; digest?: string; via: 'api' | 'oci' },
  ): Promise<{ digest: string; mediaType: string; facts: ManifestFacts }> {
    if (input.body.length > ECR_FRONT_LIMITS.maxManifestBytes)
      throw invalidParameter('imageManifest', `Member must have length less than or equal to ${ECR_FRONT_LIMITS.maxManifestBytes}`);
    const digest = sha256Digest(input.body);
    if (input.digest !== undefined && input.digest !== digest) {
      throw new EcrApiError(
        'ImageDigestDoesNotMatchException',
        `Invalid parameter at 'imageDigest' failed to satisfy constraint: 'The digest ${input.digest} does not match the manifest's digest ${digest}'`,
      );
    }
    const probe = manifestFacts(input.body, undefined);
    if (probe instanceof ManifestShapeProblem) throw invalidParameter('ImageManifest', probe.problem);
    let declared: string | undefined;
    try {
      const json = JSON.parse(input.body.toString('utf8')) as { mediaType?: unknown };
      declared = typeof json.mediaType === 'string' ? json.mediaType : undefined;
    } catch {
      declared = undefined;
    }
    const mediaType = input.mediaType || declared;
    if (!mediaType) throw invalidParameter('imageManifestMediaType', 'Member must be given when the manifest has no mediaType field');
    if (declared !== undefined && input.mediaType && declared !== input.mediaType) {
      throw invalidParameter('imageManifestMediaType', `Manifest MediaType '${declared}' and imageManifestMediaType '${input.mediaType}' must match`);
    }
    const facts = manifestFacts(input.body, mediaType);
    if (facts instanceof ManifestShapeProblem) throw invalidParameter('ImageManifest', `${facts.problem} (as ${mediaType})`);
    return this.exclusive(repo.name, async () => {
      const current = await this.resolveTag(repo.name, input.tag ?? digest);
      if (current === digest) {
        if (input.via === 'api') {
          throw new EcrApiError(
            'ImageAlreadyExistsException',
            `Image with digest '${digest}'${input.tag !== undefined ? ` and tag '${input.tag}'` : ''} already exists in the repository with name '${repo.name}' in registry with id '${this.props.account}'`,
          );
        }
        return { digest, mediaType, facts };
      }
      if (input.tag !== undefined && current !== undefined && repo.tagMutability === 'IMMUTABLE') {
        throw new EcrApiError(
          'ImageTagAlreadyExistsException',
          `The image tag '${input.tag}' already exists in the '${repo.name}' repository and cannot be overwritten because the repository is immutable.`,
        );
      }
      if (facts.kind === 'index') {
        const missing = (
          await mapLimit(facts.children, ECR_FRONT_LIMITS.upstreamConcurrency, async (d) =>
            isDigest(d) && (await this.resolveTag(repo.name, d)) === d ? undefined : d,
          )
        ).filter((d): d is string => d !== undefined);
        if (missing.length > 0) {
          throw new EcrApiError(
            'ReferencedImagesNotFoundException',
            `Some of the images referenced by the manifest list were not found in the repository with name '${repo.name}': [${missing.join(', ')}]`,
          );
        }
      }
      const res = await this.upstream.fetch('PUT', `/v2/${repo.name}/manifests/${input.tag ?? digest}`, {
        headers: { 'content-type': mediaType },
        body: input.body,
        maxBytes: 64 * 1024,
      });
      if (res.status !== 201) {
        const errors = registryErrors(res.body);
        const blobs = errors.filter((e) => e.code === 'MANIFEST_BLOB_UNKNOWN').map((e) => (typeof e.detail === 'string' ? e.detail : JSON.stringify(e.detail)));
        if (blobs.length > 0) {
          throw new EcrApiError(
            'LayersNotFoundException',
            `Layers with digests '[${blobs.join(', ')}]' required for pushing image into repository with name '${repo.name}' in the registry with id '${this.props.account}' do not exist`,
          );
        }
        if (res.status === 400)
          throw invalidParameter('ImageManifest', errors.map((e) => `${e.code}: ${e.message}`).join('; ') || 'the registry refused the manifest');
        throw this.upstreamFailure(res, `PUT manifest ${repo.name}:${input.tag ?? digest}`);
      }
      let record = repo.images.get(digest);
      if (!record) {
        record = { digest, facts, size: input.body.length, pushedAt: this.now() };
        repo.images.set(digest, record);
        if (this.props.scanOnPush?.(repo.name) || repo.scanOnPush) this.scan(repo, record);
      }
      this.emit('ECR Image Action', {
        result: 'SUCCESS',
        'repository-name': repo.name,
        'image-digest': digest,
        'action-type': 'PUSH',
        ...(input.tag !== undefined && { 'image-tag': input.tag }),
        'manifest-media-type': mediaType,
        ...(facts.configMediaType && { 'artifact-media-type': facts.configMediaType }),
      });
      return { digest, mediaType, facts };
    });
  }

  /** A basic scan, complete at once: images with an image config are scanned, other artifacts are UNSUPPORTED_IMAGE, indexes are not scanned. */
  private scan(repo: RepositoryState, record: ImageRecord): void {
    if (record.facts.kind === 'index') return;
    const at = this.now();
    if (!isScannableImage(record.facts)) {
      record.scan = { status: 'UNSUPPORTED_IMAGE', description: 'The operating system and/or package manager are not supported.', at };
      return;
    }
    record.scan = { status: 'COMPLETE', description: 'The scan was completed successfully.', at };
    this.emit('ECR Image Scan', {
      'scan-status': 'COMPLETE',
      'repository-name': repo.name,
      'image-digest': record.digest,
      'finding-severity-counts': this.severityCounts(this.scanAnswer(repo.name, record.digest).findings),
    });
  }

  private emit(detailType: EcrEvent['detail-type'], detail: Record<string, unknown>): void {
    const onEvent = this.props.onEvent;
    if (!onEvent) return;
    const event: EcrEvent = {
      version: '0',
      id: randomUUID(),
      'detail-type': detailType,
      source: 'aws.ecr',
      account: this.props.account,
      time: this.now()
        .toISOString()
        .replace(/\.\d{3}Z$/, 'Z'),
      region: this.props.region,
      resources: detailType === 'ECR Image Scan' ? [this.repositoryArn(String(detail['repository-name']))] : [],
      detail,
    };
    try {
      onEvent(event);
    } catch (error) {
      this.failedEvents.push({ event, error });
    }
  }

  // ---------------------------------------------------------------------------------
  // The OCI endpoint
  // ---------------------------------------------------------------------------------

  /**
   * One request to the OCI endpoint. Authenticates the Basic credentials of
   * `GetAuthorizationToken` (401 with ECR's challenge without them, 403 when the token
   * expired), authorizes the ECR action AWS checks for the request, and forwards it to
   * the upstream registry (bodies streamed, `Location` pointed back at this front). Also
   * serves the layer URLs of `GetDownloadUrlForLayer`, which need no credentials.
   */
  async handleRegistry(req: IncomingMessage, res: ServerResponse): Promise<void> {
    try {
      await this.serveRegistry(req, res);
    } catch (error) {
      const e =
        error instanceof EcrApiError
          ? error
          : new EcrApiError('ServerException', `the rehearsal's ECR front failed: ${error instanceof Error ? error.message : String(error)}`, { cause: error });
      if (res.headersSent) {
        res.destroy(e);
        return;
      }
      const { status, code } = e.toOci();
      sendOciError(res, status, code, e.message);
    }
  }

  private async serveRegistry(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const url = new URL(req.url ?? '/', 'http://front.invalid');
    const method = (req.method ?? 'GET').toUpperCase();
    if (url.pathname.startsWith(LAYER_URL_PATH)) return this.serveLayerUrl(req, res, url.pathname.slice(LAYER_URL_PATH.length), method);
    const route = parseRoute(url.pathname);
    if (route.kind === 'unknown') return sendOciError(res, 404, 'NOT_FOUND', `the registry has no ${url.pathname}`);
    const principal = this.authenticate(req, res);
    if (principal === undefined) return;
    if (route.kind === 'base') {
      res.writeHead(200, { 'content-type': 'application/json; charset=utf-8', 'content-length': 2, 'docker-distribution-api-version': 'registry/2.0' });
      return void res.end(method === 'HEAD' ? undefined : '{}');
    }
    if (route.kind === 'catalog') return sendOciError(res, 405, 'UNSUPPORTED', 'The operation is unsupported.');
    const name = decodeSegment(route.name);
    if (name === undefined || !REPOSITORY_NAME.test(name))
      return sendOciError(res, 400, 'NAME_INVALID', `invalid repository name ${JSON.stringify(name ?? route.name)}`);
    const origin = this.clientOrigin(req);
    switch (route.kind) {
      case 'manifest': {
        const reference = decodeSegment(route.reference);
        if (reference === undefined || !(isDigest(reference) || TAG.test(reference)))
          return sendOciError(res, 400, 'TAG_INVALID', `invalid tag or digest ${JSON.stringify(reference ?? route.reference)}`);
        return this.serveManifest(req, res, method, principal, name, reference, origin);
      }
      case 'blob': {
        const digest = decodeSegment(route.digest) ?? route.digest;
        if (method === 'DELETE') return sendOciError(res, 405, 'UNSUPPORTED', 'The operation is unsupported.');
        if (method !== 'GET' && method !== 'HEAD') return sendOciError(res, 405, 'UNSUPPORTED', `${method} is not allowed on a blob`);
        await this.requireOci(principal, method === 'GET' ? 'ecr:GetDownloadUrlForLayer' : 'ecr:BatchCheckLayerAvailability', name);
        this.existing(name);
        if (!isDigest(digest)) return sendOciError(res, 400, 'DIGEST_INVALID', 'provided digest did not match uploaded content');
        return forwardToUpstream(this.upstream, req, res, method, `/v2/${name}/blobs/${digest}`, origin);
      }
      case 'uploads': {
        if (method !== 'POST') return sendOciError(res, 405, 'UNSUPPORTED', `${method} is not allowed on blob uploads`);
        await this.requireOci(principal, 'ecr:InitiateLayerUpload', name);
        await this.pushTarget(name, principal);
        const query = await this.mountQuery(url.searchParams, principal);
        // A monolithic POST (`?digest=` with the bytes) uploads and completes in one request.
        if (url.searchParams.get('digest') !== null && this.hasBody(req)) {
          await this.requireOci(principal, 'ecr:UploadLayerPart', name);
          await this.requireOci(principal, 'ecr:CompleteLayerUpload', name);
        }
        return forwardToUpstream(this.upstream, req, res, 'POST', `/v2/${name}/blobs/uploads/${query}`, origin);
      }
      case 'upload': {
        const action = method === 'PUT' ? 'ecr:CompleteLayerUpload' : 'ecr:UploadLayerPart';
        if (!['PATCH', 'PUT', 'GET', 'DELETE'].includes(method)) return sendOciError(res, 405, 'UNSUPPORTED', `${method} is not allowed on a blob upload`);
        if (method === 'PUT' && this.hasBody(req)) await this.requireOci(principal, 'ecr:UploadLayerPart', name);
        await this.requireOci(principal, action, name);
        this.existing(name);
        return forwardToUpstream(this.upstream, req, res, method, `/v2/${name}/blobs/uploads/${route.session}${url.search}`, origin);
      }
      case 'tags':
        if (method !== 'GET') return sendOciError(res, 405, 'UNSUPPORTED', `${method} is not allowed on tags/list`);
        await this.requireOci(principal, 'ecr:ListImages', name);
        return this.serveTags(res, this.existing(name), url.searchParams);
      case 'referrers':
        if (method !== 'GET') return sendOciError(res, 405, 'UNSUPPORTED', `${method} is not allowed on referrers`);
        await this.requireOci(principal, 'ecr:BatchGetImage', name);
        return this.serveReferrers(res, this.existing(name), decodeSegment(route.digest) ?? route.digest, url.searchParams.get('artifactType') ?? undefined);
    }
  }

  /** The principal a request's Basic credentials name; answers 401 (no or bad credentials) or 403 (expired) itself and returns undefined. */
  private authenticate(req: IncomingMessage, res: ServerResponse): string | undefined {
    const challenge = { 'www-authenticate': `Basic realm="${this.proxyEndpoint}/",service="ecr.amazonaws.com"` };
    const m = /^Basic\s+([A-Za-z0-9+/=]+)\s*$/i.exec(req.headers.authorization ?? '');
    if (!m) {
      sendOciError(res, 401, 'UNAUTHORIZED', 'Not Authorized', challenge);
      return undefined;
    }
    const decoded = Buffer.from(m[1], 'base64').toString('utf8');
    const colon = decoded.indexOf(':');
    const user = colon < 0 ? decoded : decoded.slice(0, colon);
    const verified = user === 'AWS' ? this.signer.verify('registry', decoded.slice(colon + 1), this.now()) : { problem: 'malformed' as const };
    if ('problem' in verified) {
      if (verified.problem === 'expired') sendOciError(res, 403, 'DENIED', 'Your authorization token has expired. Reauthenticate and try again.');
      else sendOciError(res, 401, 'UNAUTHORIZED', 'Not Authorized', challenge);
      return undefined;
    }
    return verified.payload.p;
  }

  /** Authorizes an OCI request for `action` on a repository; throws the DENIED answer, in AWS's words. */
  private async requireOci(principal: string, action: string, repository: string): Promise<void> {
    const resource = this.repositoryArn(repository);
    const decision = await this.allowed(principal, action, resource);
    if (!decision.allowed) throw new EcrApiError('AccessDeniedException', accessDeniedMessage(principal, action, resource, decision.why));
  }

  /** The repository, which must exist (NAME_UNKNOWN as ECR answers otherwise). */
  private existing(name: string): RepositoryState {
    const repo = this.repositories.get(name);
    if (!repo) throw repositoryNotFound(name, this.props.account);
    return repo;
  }

  private hasBody(req: IncomingMessage): boolean {
    return Number(req.headers['content-length'] ?? 0) > 0 || req.headers['transfer-encoding'] !== undefined;
  }

  /** Where the client reached this front: its `Host`, else the public base URL. */
  private clientOrigin(req: IncomingMessage): string {
    return req.headers.host ? `http://${req.headers.host}` : (this.baseUrl ?? this.proxyEndpoint);
  }

  /**
   * The query of an upload's POST: a cross-repository mount (`?mount=&from=`) is kept only
   * when the account's BLOB_MOUNTING is ENABLED, the source repository exists and the
   * caller may `ecr:GetDownloadUrlForLayer` on it (what ECR documents); otherwise it is
   * dropped, and the registry opens an upload session (202) as ECR does.
   */
  private async mountQuery(params: URLSearchParams, principal: string): Promise<string> {
    const query = new URLSearchParams(params);
    const mount = params.get('mount');
    const from = params.get('from');
    if (mount !== null || from !== null) {
      const mountable =
        mount !== null &&
        from !== null &&
        isDigest(mount) &&
        this.settings.get('BLOB_MOUNTING') === 'ENABLED' &&
        this.repositories.has(from) &&
        (await this.allowed(principal, 'ecr:GetDownloadUrlForLayer', this.repositoryArn(from))).allowed;
      if (!mountable) {
        query.delete('mount');
        query.delete('from');
      }
    }
    const text = query.toString();
    return text ? `?${text}` : '';
  }

  private async serveManifest(
    req: IncomingMessage,
    res: ServerResponse,
    method: string,
    principal: string,
    name: string,
    reference: string,
    origin: string,
  ): Promise<void> {
    if (method === 'GET' || method === 'HEAD') {
      await this.requireOci(principal, 'ecr:BatchGetImage', name);
      this.existing(name);
      return forwardToUpstream(this.upstream, req, res, method, `/v2/${name}/manifests/${reference}`, origin);
    }
    if (method === 'DELETE') {
      await this.requireOci(principal, 'ecr:BatchDeleteImage', name);
      const repo = this.existing(name);
      const { failures } = await this.deleteImages(repo, [isDigest(reference) ? { imageDigest: reference } : { imageTag: reference }]);
      const failure = failures[0] as { failureCode?: string; failureReason?: string } | undefined;
      if (!failure) {
        res.writeHead(202, { 'content-length': 0, 'docker-distribution-api-version': 'registry/2.0' });
        return void res.end();
      }
      if (failure.failureCode === 'ImageNotFound') return sendOciError(res, 404, 'MANIFEST_UNKNOWN', 'manifest unknown');
      return sendOciError(
        res,
        failure.failureCode === 'ImageReferencedByManifestList' ? 409 : 400,
        'DENIED',
        `${failure.failureCode}: ${failure.failureReason}`,
      );
    }
    if (method !== 'PUT') return sendOciError(res, 405, 'UNSUPPORTED', `${method} is not allowed on a manifest`);
    await this.requireOci(principal, 'ecr:PutImage', name);
    const repo = await this.pushTarget(name, principal);
    const body = await readBoundedBody(req, res, ECR_FRONT_LIMITS.maxManifestBytes, ECR_FRONT_LIMITS.requestBodyTimeoutMs);
    if (!body) return;
    const tag = isDigest(reference) ? undefined : reference;
    if (tag === undefined && reference !== sha256Digest(body))
      return sendOciError(res, 400, 'DIGEST_INVALID', 'provided digest did not match uploaded content');
    const written = await this.writeManifest(repo, { body, mediaType: contentType(req.headers), tag, via: 'oci' });
    res.writeHead(201, {
      location: `${origin}/v2/${name}/manifests/${written.digest}`,
      'docker-content-digest': written.digest,
      'content-length': 0,
      'docker-distribution-api-version': 'registry/2.0',
      ...(written.facts.subject && { 'oci-subject': written.facts.subject }),
    });
    res.end();
  }

  /** `tags/list` of a repository, paginated as the distribution spec has it (`n`, `last`, `Link`). */
  private async serveTags(res: ServerResponse, repo: RepositoryState, params: URLSearchParams): Promise<void> {
    const tags = (await this.upstreamTags(repo.name)).sort();
    const n = params.get('n') === null ? ECR_FRONT_LIMITS.maxResults : Number(params.get('n'));
    if (!Number.isInteger(n) || n < 0 || n > ECR_FRONT_LIMITS.maxResults)
      return sendOciError(res, 400, 'PAGINATION_NUMBER_INVALID', `n must be an integer from 0 to ${ECR_FRONT_LIMITS.maxResults}`);
    const last = params.get('last');
    const rest = last === null ? tags : tags.filter((t) => t > last);
    const page = rest.slice(0, n);
    const headers: OutgoingHttpHeaders = { 'content-type': 'application/json; charset=utf-8', 'docker-distribution-api-version': 'registry/2.0' };
    if (rest.length > n && page.length > 0) headers.link = `</v2/${repo.name}/tags/list?n=${n}&last=${encodeURIComponent(page[page.length - 1])}>; rel="next"`;
    const body = JSON.stringify({ name: repo.name, tags: page });
    res.writeHead(200, { ...headers, 'content-length': Buffer.byteLength(body) });
    res.end(body);
  }

  /**
   * The OCI 1.1 referrers API, which ECR serves and the CNCF registry 2.8 does not: the
   * images of the repository whose `subject` is `digest` (the front reads every manifest
   * of the repository it knows of: tagged ones and those pushed through it). The fallback
   * tag `sha256-<hex>` is not read: to ECR it is an ordinary tag.
   */
  private async serveReferrers(res: ServerResponse, repo: RepositoryState, digest: string, artifactType: string | undefined): Promise<void> {
    if (!isDigest(digest)) return sendOciError(res, 400, 'DIGEST_INVALID', 'invalid digest');
    const manifests = [...(await this.inventory(repo)).values()]
      .map((e) => e.record)
      .filter((r) => r.facts.subject === digest && (artifactType === undefined || r.facts.artifactType === artifactType))
      .map((r) => ({
        mediaType: r.facts.mediaType,
        digest: r.digest,
        size: r.size,
        ...(r.facts.artifactType && { artifactType: r.facts.artifactType }),
        ...(r.facts.annotations && { annotations: r.facts.annotations }),
      }));
    const body = JSON.stringify({ schemaVersion: 2, mediaType: 'application/vnd.oci.image.index.v1+json', manifests });
    res.writeHead(200, {
      'content-type': 'application/vnd.oci.image.index.v1+json',
      'content-length': Buffer.byteLength(body),
      'docker-distribution-api-version': 'registry/2.0',
      ...(artifactType !== undefined && { 'oci-filters-applied': 'artifactType' }),
    });
    res.end(body);
  }

  /** A layer URL of `GetDownloadUrlForLayer`: the blob it names, with no credentials, until the URL expires (403 as S3 answers then). */
  private async serveLayerUrl(req: IncomingMessage, res: ServerResponse, token: string, method: string): Promise<void> {
    const refuse = (code: string, message: string) => {
      const body = `<?xml version="1.0" encoding="UTF-8"?>\n<Error><Code>${code}</Code><Message>${message}</Message></Error>`;
      res.writeHead(403, { 'content-type': 'application/xml', 'content-length': Buffer.byteLength(body) });
      res.end(method === 'HEAD' ? undefined : body);
    };
    if (method !== 'GET' && method !== 'HEAD') return refuse('MethodNotAllowed', 'The specified method is not allowed against this resource.');
    const verified = this.signer.verify('layer', token, this.now());
    if ('problem' in verified) {
      return verified.problem === 'expired'
        ? refuse('AccessDenied', 'Request has expired')
        : refuse('SignatureDoesNotMatch', 'The request signature we calculated does not match the signature you provided.');
    }
    const { r, d } = verified.payload;
    return forwardToUpstream(this.upstream, req, res, method, `/v2/${r}/blobs/${d}`, this.clientOrigin(req));
  }
}
