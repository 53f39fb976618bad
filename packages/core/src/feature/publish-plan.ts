/**
 * The decisions around `devcontainer features publish`, in two halves so that
 * CodeBuild can run the CLI between them: {@link planFeaturePublish} before (the
 * version guard, the tags the release will move, the collection as it is), and
 * {@link completeFeaturePublish} after (the tags really moved, the collection
 * listing every feature). {@link publishFeature} runs the whole flow in one call.
 */
import { repositoryName } from '../naming';
import type { Registry } from '../oci/registry';
import type { FeatureContent } from './feature-content';
import { publishFeatureCollection, readFeatureCollection, type CollectionRegistry, type PublishedCollection } from './feature-collection';
import { featureReleaseTags, FeatureTagMismatchError, verifyFeatureTags } from './feature-tags';
import { checkFeatureVersion } from './version-guard';

/** What publishing one feature version will do; written to a file between CodeBuild steps. */
export interface FeaturePublishPlan {
  readonly namespace: string;
  readonly id: string;
  readonly version: string;
  /** `publish`: the version is new. `unchanged`: the registry has this version with this content; publish nothing. */
  readonly action: 'publish' | 'unchanged';
  /** The tags the release moves (empty when unchanged). */
  readonly tags: readonly string[];
  /** Digest of the published manifest, when unchanged. */
  readonly digest?: string;
  /** Ids the collection listed before the CLI replaced it. */
  readonly previousCollection: readonly string[];
}

export interface PlanFeaturePublishProps {
  readonly registry: Registry;
  readonly namespace: string;
  readonly id: string;
  readonly version: string;
  /** The content of the packaged feature (`devcontainer features package`). */
  readonly packaged: FeatureContent;
}

/**
 * Runs the version guard and computes the release tags.
 * @throws FeatureVersionConflictError when the version is published with other content
 */
export async function planFeaturePublish(props: PlanFeaturePublishProps): Promise<FeaturePublishPlan> {
  const check = await checkFeatureVersion(props);
  const previous = await readFeatureCollection(props.registry, props.namespace);
  const base = { namespace: props.namespace, id: props.id, version: props.version, previousCollection: (previous?.features ?? []).map((f) => f.id) };
  if (check.status === 'unchanged') return { ...base, action: 'unchanged', tags: [], digest: check.digest };
  const published = await props.registry.listTags(repositoryName(props.namespace, 'feature', props.id));
  return { ...base, action: 'publish', tags: featureReleaseTags(props.version, published) };
}

/** What `devcontainer features publish` reported for one feature. */
export interface CliPublishResult {
  readonly digest?: string;
  readonly publishedTags?: readonly string[];
  readonly version?: string;
}

/**
 * Reads the JSON the devcontainer CLI prints last on stdout after publishing
 * (`{"<id>":{"publishedTags":[…],"digest":"sha256:…","version":"…"}}`).
 */
export function parsePublishOutput(stdout: string, id: string): CliPublishResult {
  const line = stdout
    .trim()
    .split('\n')
    .reverse()
    .find((l) => l.trim().startsWith('{'));
  let json: Record<string, CliPublishResult> | undefined;
  try {
    json = line ? JSON.parse(line) : undefined;
  } catch (cause) {
    throw new FeatureTagMismatchError(`cannot read the devcontainer CLI's publish result: ${line}`, { cause });
  }
  const result = json?.[id];
  if (!result) throw new FeatureTagMismatchError(`the devcontainer CLI's publish result does not mention feature '${id}': ${line ?? '(no JSON on stdout)'}`);
  return result;
}

export interface CompleteFeaturePublishProps {
  readonly registry: CollectionRegistry;
  readonly plan: FeaturePublishPlan;
  /** What the CLI reported; required when the plan was `publish`. */
  readonly cliResult?: CliPublishResult;
}

export interface FeaturePublishResult {
  readonly id: string;
  readonly version: string;
  /** `published`: a new version was pushed. `unchanged`: nothing was pushed for the feature. */
  readonly status: 'published' | 'unchanged';
  /** Digest of the version's manifest. */
  readonly digest: string;
  /** Tags moved to it (empty when unchanged). */
  readonly tags: readonly string[];
  readonly collection: PublishedCollection;
}

/**
 * Checks that the CLI moved exactly the planned tags, then rewrites the collection.
 * @throws FeatureTagMismatchError when the CLI skipped the version or tagged otherwise
 */
export async function completeFeaturePublish(props: CompleteFeaturePublishProps): Promise<FeaturePublishResult> {
  const { plan, registry } = props;
  const repository = repositoryName(plan.namespace, 'feature', plan.id);
  let digest = plan.digest;
  if (plan.action === 'publish') {
    const result = props.cliResult;
    if (!result?.digest || !result.publishedTags) {
      throw new FeatureTagMismatchError(
        `the devcontainer CLI did not publish ${repository}:${plan.version} (it skips versions that exist): another publish of '${plan.id}' ran at the same time; start the pipeline again`,
      );
    }
    const expected = [...plan.tags].sort();
    const actual = [...result.publishedTags].sort();
    if (expected.join(',') !== actual.join(',')) {
      throw new FeatureTagMismatchError(
        `the devcontainer CLI tagged ${repository}:${plan.version} as ${actual.join(', ')}, but the factory's rule gives ${expected.join(', ')}`,
      );
    }
    await verifyFeatureTags(registry, repository, result.digest, plan.tags);
    digest = result.digest;
  }
  const collection = await publishFeatureCollection({
    registry,
    namespace: plan.namespace,
    featureIds: [...plan.previousCollection, plan.id],
  });
  return { id: plan.id, version: plan.version, status: plan.action === 'publish' ? 'published' : 'unchanged', digest: digest!, tags: plan.tags, collection };
}
