/**
 * The factory's catalogue from CDK context (`-c namespace=… -c images=a,b
 * -c features=c`) and an optional catalogue file (`-c catalog=FILE`), merged. The
 * file's format and its checks are the shared ones of `@devcontainer-factory/core`
 * (`readCatalogFile`, `checkIds`, `checkDependencies`, `checkFeatureUses`), which
 * `dcf local` reads too.
 */
import { resolve } from 'node:path';
import {
  CatalogError,
  DEFAULT_NAMESPACE,
  MAX_CACHE_PREFIX_LENGTH,
  checkDependencies,
  checkFeatureUses,
  checkIds,
  isPullThroughCachePrefix,
  namespaceProblem,
  notificationEndpointsProblem,
  pipelineNameProblem,
  readCatalogFile,
  type CatalogFeatureEntry,
  type CatalogImageEntry,
} from '@devcontainer-factory/core';

export { CatalogError };

export interface Catalog {
  readonly namespace: string;
  /** Context ids first, in their order, then the file's other images. */
  readonly images: CatalogImageEntry[];
  /** Context ids first, in their order, then the file's other features. */
  readonly features: CatalogFeatureEntry[];
  /**
   * Whether the warehouse merges scan on push for `<ns>/*` into the account's ECR
   * scanning configuration (keeping the account's other rules and filters, and its scan
   * type when that is ENHANCED; deleting the stack removes only `<ns>/*`):
   * `-c registryScanning=false` leaves the account's configuration alone.
   */
  readonly registryScanning: boolean;
  /**
   * The prefix of the pull-through cache rule that serves ECR Public (BuildKit among
   * it) from the factory's registry: `-c ecrPublicCache=PREFIX`, or `false` for none
   * (Build then pulls BuildKit from public.ecr.aws directly).
   * @default - `<ns>/ecr-public`
   */
  readonly ecrPublicCachePrefix?: string;
  /**
   * Whether the warehouse turns on ECR blob mounting for the account and region
   * (Release then mounts layers into `<ns>/images/<id>` instead of copying them):
   * `-c blobMounting=false` leaves the account's setting alone. Deleting the stack
   * leaves the setting on.
   */
  readonly blobMounting: boolean;
  /**
   * Whether released images and features are signed with ECR managed signing
   * (`-c signing=true`; an AWS Signer profile is created); account-wide, off by default.
   */
  readonly signing: boolean;
  /**
   * Pull-through cache rules for registries that need credentials, from
   * `-c dockerHubCacheSecret=NAME` and `-c ghcrCacheSecret=NAME` (a Secrets Manager secret
   * named `ecr-pullthroughcache/…`): prefixes `<ns>/docker-hub` and `<ns>/ghcr`, which
   * every image's Build may pull through.
   * @default - none
   */
  readonly upstreamCaches?: CatalogUpstreamCache[];
  /**
   * Who is told about failures: email addresses and `https://` URLs subscribed to the
   * namespace's failure topic, from `-c notify=a@example.com,https://hooks.example.com/x`.
   * @default - none: the topic exists, with no subscription
   */
  readonly notify?: string[];
  /**
   * Who may ship: the IAM roles and users (by ARN, of the deploy's account) granted push
   * on the warehouse, from `-c pushers=arn:aws:iam::111111111111:role/platform-ci,…`. The
   * source bucket denies every other principal's upload, so with none nobody can push
   * (the app deploys, with a warning).
   * @default - none
   */
  readonly pushers?: string[];
}

/** One credentialed pull-through cache rule of the app. */
export interface CatalogUpstreamCache {
  readonly prefix: string;
  readonly upstream: 'docker-hub' | 'github-container-registry';
  /** Name of the Secrets Manager secret, `ecr-pullthroughcache/…`. */
  readonly secretName: string;
}

/** The context keys of the credentialed upstream caches, their upstream and the prefix under the namespace. */
const UPSTREAM_CACHE_CONTEXT = [
  { key: 'dockerHubCacheSecret', upstream: 'docker-hub', suffix: 'docker-hub' },
  { key: 'ghcrCacheSecret', upstream: 'github-container-registry', suffix: 'ghcr' },
] as const;
const PULL_THROUGH_SECRET_PREFIX = 'ecr-pullthroughcache/';

/** The example catalogue used when neither context nor a catalogue file names images or features. */
export const DEFAULT_IMAGES = ['python', 'node'];
export const DEFAULT_FEATURES = ['hello'];

/** Reads context values (as `app.node.tryGetContext` gives them). */
export type ContextReader = (key: string) => unknown;

/** Builds the catalogue from context and the optional catalogue file; throws {@link CatalogError}. */
export function readCatalog(context: ContextReader, cwd = process.cwd()): Catalog {
  const catalogPath = optionalString(context('catalog'), 'catalog');
  const file = catalogPath ? readCatalogFile(resolve(cwd, catalogPath)) : undefined;

  const namespace = optionalString(context('namespace'), 'namespace') ?? file?.namespace ?? DEFAULT_NAMESPACE;
  const nsProblem = namespaceProblem(namespace);
  if (nsProblem) throw new CatalogError(`${nsProblem}. Pass a valid one with -c namespace=NAME.`);

  const contextImages = listFromContext(context('images'), 'images');
  const contextFeatures = listFromContext(context('features'), 'features');
  const useDefaults = !file && contextImages === undefined && contextFeatures === undefined;
  const imageIds = contextImages ?? (useDefaults ? DEFAULT_IMAGES : []);
  const featureIds = contextFeatures ?? (useDefaults ? DEFAULT_FEATURES : []);
  checkIds('image', imageIds, '-c images=…');
  checkIds('feature', featureIds, '-c features=…');

  const images = merge(imageIds, file?.images ?? []);
  const features = merge(featureIds, file?.features ?? []);
  checkDependencies(images, catalogPath ? `-c images=… or the catalogue file ${catalogPath}` : '-c images=…');
  checkFeatureUses(
    images,
    features.map((f) => f.id),
    catalogPath ? `-c features=… or the catalogue file ${catalogPath}` : '-c features=…',
  );
  const nameProblem = [
    ...images.map((i) => pipelineNameProblem(namespace, 'image', i.id)),
    ...features.map((f) => pipelineNameProblem(namespace, 'feature', f.id)),
  ].find(Boolean);
  if (nameProblem) throw new CatalogError(nameProblem);
  const registryScanning = optionalBoolean(context('registryScanning'), 'registryScanning') ?? true;
  const ecrPublicCachePrefix = cachePrefix(context('ecrPublicCache'), namespace);
  const blobMounting = optionalBoolean(context('blobMounting'), 'blobMounting') ?? true;
  const signing = optionalBoolean(context('signing'), 'signing') ?? false;
  const upstreamCaches = upstreamCachesFromContext(context, namespace);
  const notify = notifyFromContext(context('notify'));
  const pushers = pushersFromContext(context('pushers'));
  return {
    namespace,
    images,
    features,
    registryScanning,
    blobMounting,
    signing,
    ...(ecrPublicCachePrefix && { ecrPublicCachePrefix }),
    ...(upstreamCaches.length && { upstreamCaches }),
    ...(notify.length && { notify }),
    ...(pushers.length && { pushers }),
  };
}

/** An IAM role or user ARN: what `aws:PrincipalArn` is for a role's sessions and for a user. */
const PUSHER_ARN = /^arn:aws[a-z-]*:iam::\d{12}:(role|user)\/[\w+=,.@/-]+$/;

/** The principals of `-c pushers=…`: a comma-separated list (or a list) of IAM role and user ARNs, each once. */
function pushersFromContext(value: unknown): string[] {
  if (value === undefined || value === null) return [];
  const items = Array.isArray(value) ? value : typeof value === 'string' ? value.split(',') : undefined;
  if (!items || items.some((v) => typeof v !== 'string')) {
    throw new CatalogError(`-c pushers must be a comma-separated list of IAM role and user ARNs, got ${JSON.stringify(value)}`);
  }
  const arns = (items as string[]).map((v) => v.trim()).filter((v) => v.length > 0);
  const bad = arns.find((a) => !PUSHER_ARN.test(a));
  if (bad !== undefined) {
    const hint = /:assumed-role\//.test(bad)
      ? ' (that is a session: give the role it is of, arn:aws:iam::<account>:role/<path/><name>, as `aws iam get-role --role-name <name>` shows it)'
      : '';
    throw new CatalogError(
      `-c pushers: '${bad}' is not an IAM role or user ARN${hint}: pass each as arn:aws:iam::<account>:role/<name> or arn:aws:iam::<account>:user/<name>, e.g. -c pushers=arn:aws:iam::111111111111:role/platform-ci`,
    );
  }
  const dup = arns.find((a, i) => arns.indexOf(a) !== i);
  if (dup !== undefined) throw new CatalogError(`-c pushers lists '${dup}' twice: name each principal once`);
  return arns;
}

/** The endpoints of `-c notify=…`: a comma-separated list (or a list) of email addresses and https:// URLs, each once. */
function notifyFromContext(value: unknown): string[] {
  if (value === undefined || value === null) return [];
  const items = Array.isArray(value) ? value : typeof value === 'string' ? value.split(',') : undefined;
  if (!items || items.some((v) => typeof v !== 'string')) {
    throw new CatalogError(`-c notify must be a comma-separated list of email addresses and https:// URLs, got ${JSON.stringify(value)}`);
  }
  const endpoints = (items as string[]).map((v) => v.trim()).filter((v) => v.length > 0);
  const problem = notificationEndpointsProblem(endpoints);
  if (problem) throw new CatalogError(`-c notify: ${problem}, e.g. -c notify=platform@example.com,https://hooks.example.com/factory`);
  return endpoints;
}

function upstreamCachesFromContext(context: ContextReader, namespace: string): CatalogUpstreamCache[] {
  const caches: CatalogUpstreamCache[] = [];
  for (const { key, upstream, suffix } of UPSTREAM_CACHE_CONTEXT) {
    const secretName = optionalString(context(key), key);
    if (secretName === undefined) continue;
    if (!secretName.startsWith(PULL_THROUGH_SECRET_PREFIX) || secretName.length === PULL_THROUGH_SECRET_PREFIX.length) {
      throw new CatalogError(
        `-c ${key}=${secretName}: the secret must be named '${PULL_THROUGH_SECRET_PREFIX}<name>' (ECR reads pull-through cache credentials only from such secrets), e.g. ${PULL_THROUGH_SECRET_PREFIX}${suffix}`,
      );
    }
    const prefix = `${namespace}/${suffix}`;
    if (!isPullThroughCachePrefix(prefix)) {
      throw new CatalogError(
        `-c ${key}: the pull-through cache prefix '${prefix}' is longer than the ${MAX_CACHE_PREFIX_LENGTH} characters ECR allows: use a namespace of at most ${MAX_CACHE_PREFIX_LENGTH - suffix.length - 1} characters`,
      );
    }
    caches.push({ prefix, upstream, secretName });
  }
  return caches;
}

/** Context ids first, in their order, with the file's settings; then the file's other entries. */
function merge<T extends { id: string }>(fromContext: readonly string[], fromFile: readonly T[]): T[] {
  const byId = new Map(fromFile.map((e) => [e.id, e]));
  const named = new Set(fromContext);
  return [...fromContext.map((id) => byId.get(id) ?? ({ id } as T)), ...fromFile.filter((e) => !named.has(e.id))];
}

function listFromContext(value: unknown, key: string): string[] | undefined {
  if (value === undefined || value === null) return undefined;
  const items = Array.isArray(value) ? value : typeof value === 'string' ? value.split(',') : undefined;
  if (!items || items.some((v) => typeof v !== 'string'))
    throw new CatalogError(`-c ${key} must be a comma-separated list of ids, got ${JSON.stringify(value)}`);
  return (items as string[]).map((v) => v.trim()).filter((v) => v.length > 0);
}

function optionalString(value: unknown, key: string): string | undefined {
  if (value === undefined || value === null) return undefined;
  if (typeof value !== 'string') throw new CatalogError(`-c ${key} must be a string, got ${JSON.stringify(value)}`);
  return value;
}

function optionalBoolean(value: unknown, key: string): boolean | undefined {
  if (value === undefined || value === null) return undefined;
  if (value === true || value === 'true') return true;
  if (value === false || value === 'false') return false;
  throw new CatalogError(`-c ${key} must be true or false, got ${JSON.stringify(value)}`);
}

function cachePrefix(value: unknown, namespace: string): string | undefined {
  if (value === false || value === 'false') return undefined;
  const prefix = optionalString(value === true || value === 'true' ? undefined : value, 'ecrPublicCache') ?? `${namespace}/ecr-public`;
  if (!isPullThroughCachePrefix(prefix)) {
    throw new CatalogError(
      `the ECR Public pull-through cache prefix '${prefix}' is not one ECR accepts (2 to ${MAX_CACHE_PREFIX_LENGTH} lowercase characters in '/'-separated components): pass -c ecrPublicCache=PREFIX with a shorter one, or -c ecrPublicCache=false to pull BuildKit from public.ecr.aws directly`,
    );
  }
  return prefix;
}
