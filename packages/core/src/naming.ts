/**
 * The names every part of the factory agrees on: ids, namespaces, S3 keys,
 * repository names and SSM parameter names. Pure functions, no AWS calls, so the
 * constructs, the Lambdas and the CLI all use the same rules.
 */
import { createHash } from 'node:crypto';
import { FactoryError } from './factory-error';

/** What an image or feature id may look like. */
export const ID_PATTERN = /^[a-z0-9][a-z0-9-]*$/;
/** Longest id: keeps `<ns>-image-<id>` within CloudFormation's 128-character stack names. */
export const MAX_ID_LENGTH = 63;
/** What a namespace may look like: an ECR repository prefix segment, an S3 key prefix, a stack name prefix. */
export const NAMESPACE_PATTERN = /^[a-z][a-z0-9-]*$/;
export const MAX_NAMESPACE_LENGTH = 32;
export const DEFAULT_NAMESPACE = 'devcontainers';

/** The two kinds of things the factory builds. */
export type ArtifactKind = 'image' | 'feature';

/** Thrown for an id or namespace that breaks the naming rules. */
export class InvalidNameError extends FactoryError {}

/**
 * The problem with an id, or undefined when it is valid.
 * @param what how to name the value in the message, e.g. "image id"
 */
export function idProblem(id: string, what = 'id'): string | undefined {
  if (typeof id !== 'string' || id.length === 0) return `${what} must not be empty`;
  if (id.length > MAX_ID_LENGTH) return `${what} '${id}' is ${id.length} characters long; the limit is ${MAX_ID_LENGTH}`;
  if (!ID_PATTERN.test(id)) {
    const hint = id !== id.toLowerCase() ? ` (try '${id.toLowerCase().replace(/_/g, '-')}')` : id.includes('_') ? ` (try '${id.replace(/_/g, '-')}')` : '';
    return `${what} '${id}' is invalid: use lowercase letters, digits and '-', starting with a letter or digit (${ID_PATTERN.source})${hint}`;
  }
  return undefined;
}

/** Throws {@link InvalidNameError} when the id breaks the rules; returns it otherwise. */
export function validateId(id: string, what = 'id'): string {
  const problem = idProblem(id, what);
  if (problem) throw new InvalidNameError(problem);
  return id;
}

/** The problem with a namespace, or undefined when it is valid. */
export function namespaceProblem(namespace: string): string | undefined {
  if (typeof namespace !== 'string' || namespace.length === 0) return 'namespace must not be empty';
  if (namespace.length > MAX_NAMESPACE_LENGTH) {
    return `namespace '${namespace}' is ${namespace.length} characters long; the limit is ${MAX_NAMESPACE_LENGTH}`;
  }
  if (!NAMESPACE_PATTERN.test(namespace) || namespace.endsWith('-')) {
    return `namespace '${namespace}' is invalid: use lowercase letters, digits and '-', starting with a letter and not ending with '-' (${NAMESPACE_PATTERN.source})`;
  }
  return undefined;
}

/** Throws {@link InvalidNameError} when the namespace breaks the rules; returns it otherwise. */
export function validateNamespace(namespace: string): string {
  const problem = namespaceProblem(namespace);
  if (problem) throw new InvalidNameError(problem);
  return namespace;
}

const plural = (kind: ArtifactKind) => (kind === 'image' ? 'images' : 'features');

/** S3 key of an uploaded configuration: `<ns>/images/<id>.zip` or `<ns>/features/<id>.zip`. */
export function sourceKey(namespace: string, kind: ArtifactKind, id: string): string {
  return `${namespace}/${plural(kind)}/${id}.zip`;
}

/** ECR repository of an image or feature: `<ns>/images/<id>` or `<ns>/features/<id>`. */
export function repositoryName(namespace: string, kind: ArtifactKind, id: string): string {
  return `${namespace}/${plural(kind)}/${id}`;
}

/**
 * The staging repository of an image, `<ns>/builds/<id>`: Build pushes the per-arch
 * images there, Manifest puts the index, Test pulls it; Release promotes the tested
 * build into the release repository `<ns>/images/<id>`, the only one users pull from.
 */
export function stagingRepositoryName(namespace: string, id: string): string {
  return `${namespace}/builds/${id}`;
}

/** The feature collection's own repository, where the devcontainer CLI pushes collection metadata: `<ns>/features`. */
export function featureCollectionRepositoryName(namespace: string): string {
  return `${namespace}/features`;
}

/** Prefix of every SSM parameter of a namespace: `/<ns>/factory`. */
export function parameterPrefix(namespace: string): string {
  return `/${namespace}/factory`;
}

/** SSM parameter names the warehouse writes and pipelines and the CLI read. */
export function parameterNames(namespace: string) {
  const prefix = parameterPrefix(namespace);
  return {
    sourceBucketName: `${prefix}/source-bucket-name`,
    artifactBucketName: `${prefix}/artifact-bucket-name`,
    s3KeyArn: `${prefix}/s3-key-arn`,
    ecrKeyArn: `${prefix}/ecr-key-arn`,
    registry: `${prefix}/registry`,
    repositoryPrefix: `${prefix}/repository-prefix`,
    /** The SNS topic that failed pipeline actions, retention errors and refused releases are sent to. */
    failureTopicArn: `${prefix}/failure-topic-arn`,
  } as const;
}

/** CloudFormation stack names of a namespace's stacks. */
export function stackNames(namespace: string) {
  return {
    warehouse: `${namespace}-warehouse`,
    image: (id: string) => `${namespace}-image-${id}`,
    feature: (id: string) => `${namespace}-feature-${id}`,
  };
}

/** ECR's limits on a pull-through cache rule's repository prefix: 2 to 30 characters, lowercase `/`-separated components. */
export const MAX_CACHE_PREFIX_LENGTH = 30;
const CACHE_PREFIX = /^(?:[a-z0-9]+(?:[._-][a-z0-9]+)*\/)*[a-z0-9]+(?:[._-][a-z0-9]+)*$/;

/** Whether ECR accepts `prefix` as the repository prefix of a pull-through cache rule. */
export function isPullThroughCachePrefix(prefix: string): boolean {
  return prefix.length >= 2 && prefix.length <= MAX_CACHE_PREFIX_LENGTH && CACHE_PREFIX.test(prefix);
}

/** CodePipeline's limit on a pipeline name. */
export const MAX_PIPELINE_NAME_LENGTH = 100;

/**
 * How many leading characters of a pipeline's name CodePipeline keys its artifacts by:
 * it writes them to `<artifact bucket>/<first 20 characters of the name>/…`, so two
 * pipelines whose names share those characters share an artifact prefix, and a stage
 * role granted one pipeline's prefix could read the other's artifacts.
 */
export const ARTIFACT_PREFIX_LENGTH = 20;

/** The key prefix of a pipeline's objects in its artifact bucket: the first {@link ARTIFACT_PREFIX_LENGTH} characters of its name. */
export function artifactPrefix(pipelineName: string): string {
  return pipelineName.slice(0, ARTIFACT_PREFIX_LENGTH);
}

/** What every factory pipeline name starts with, before the hash that keeps its artifact prefix its own. */
const PIPELINE_NAME_PREFIX = 'dcf-';
/** Hex digits of the hash: `dcf-` and 12 digits fill 16 of the 20 characters of the artifact prefix. */
const PIPELINE_HASH_LENGTH = 12;

/** The problem with the pipeline name of a namespace and id (too long for CodePipeline), or undefined. */
export function pipelineNameProblem(namespace: string, kind: ArtifactKind, id: string): string | undefined {
  const name = factoryPipelineName(namespace, kind, id);
  if (name.length <= MAX_PIPELINE_NAME_LENGTH) return undefined;
  return (
    `${kind} '${id}' in namespace '${namespace}' gets the pipeline name '${name}', ${name.length} characters long; ` +
    `CodePipeline allows ${MAX_PIPELINE_NAME_LENGTH}: shorten the id to at most ${MAX_PIPELINE_NAME_LENGTH - (name.length - id.length)} characters or use a shorter namespace`
  );
}

/**
 * CodePipeline pipeline names: `dcf-<hash>-<stack name>`, e.g.
 * `dcf-5d0c3ab1e2f4-devcontainers-image-greeter`. The 12 hex digits are the start of the
 * SHA-256 of `<ns>/<kind>/<id>`, so the first 20 characters, under which CodePipeline
 * keeps the pipeline's artifacts ({@link artifactPrefix}), differ between any two
 * pipelines of any namespaces, however long their namespaces and ids; the stack name
 * follows, so the name still says whose pipeline it is.
 * @throws InvalidNameError when the name is longer than CodePipeline allows
 */
export function pipelineName(namespace: string, kind: ArtifactKind, id: string): string {
  const problem = pipelineNameProblem(namespace, kind, id);
  if (problem) throw new InvalidNameError(problem);
  return factoryPipelineName(namespace, kind, id);
}

/**
 * IAM wildcards (`?` one character, `*` any) that match the names of the factory
 * pipelines of `namespace`, for the resource of a `codepipeline:` statement:
 * `dcf-????????????-<ns>-image-*` and `dcf-????????????-<ns>-feature-*`. They match no
 * other namespace's pipelines, unless that namespace is `<ns>-image-…` or `<ns>-feature-…`.
 */
export function pipelineArnPatterns(namespace: string): string[] {
  const hash = '?'.repeat(PIPELINE_HASH_LENGTH);
  return (['image', 'feature'] as const).map((kind) => `${PIPELINE_NAME_PREFIX}${hash}-${stackName(namespace, kind, '')}*`);
}

/**
 * The image or feature of namespace `namespace` whose factory pipeline is named `name`,
 * or undefined when `name` is no pipeline of that namespace (another namespace's, one
 * named by hand, or one whose hash does not match): the inverse of {@link pipelineName}.
 */
export function parsePipelineName(namespace: string, name: string): { kind: ArtifactKind; id: string } | undefined {
  for (const kind of ['image', 'feature'] as const) {
    const stackPrefix = stackName(namespace, kind, '');
    const match = /^dcf-[0-9a-f]{12}-(.*)$/.exec(name);
    if (!match?.[1].startsWith(stackPrefix)) continue;
    const id = match[1].slice(stackPrefix.length);
    if (idProblem(id) === undefined && factoryPipelineName(namespace, kind, id) === name) return { kind, id };
  }
  return undefined;
}

function factoryPipelineName(namespace: string, kind: ArtifactKind, id: string): string {
  const hash = createHash('sha256').update(`${namespace}/${kind}/${id}`).digest('hex').slice(0, PIPELINE_HASH_LENGTH);
  return `${PIPELINE_NAME_PREFIX}${hash}-${stackName(namespace, kind, id)}`;
}

/** The stack of an image or feature pipeline: `<ns>-image-<id>` or `<ns>-feature-<id>` (within 128 characters by {@link MAX_ID_LENGTH} and {@link MAX_NAMESPACE_LENGTH}). */
export function pipelineStackName(namespace: string, kind: ArtifactKind, id: string): string {
  return stackName(namespace, kind, id);
}

function stackName(namespace: string, kind: ArtifactKind, id: string): string {
  return kind === 'image' ? stackNames(namespace).image(id) : stackNames(namespace).feature(id);
}
