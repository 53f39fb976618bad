/**
 * The rule the devcontainer CLI does not enforce: a published version is never
 * overwritten, and an upload that changes a feature without changing its version
 * fails instead of being skipped in silence. The packaged feature is compared with
 * what the registry holds under that version, file by file (content and execute
 * bit), because the CLI's tarballs are not byte-reproducible.
 */
import { InvalidConfigurationError } from '../config/files';
import { repositoryName } from '../naming';
import type { Registry } from '../registry/registry';
import { MAX_VERSION_PART, compareSemver, formatSemver, parseSemver, semverProblem, versionsAmongTags } from '../semver';
import { readPublishedFeature } from './feature-artifact';
import { featureContentDifferences, type FeatureContent } from './feature-content';
import { FEATURE_METADATA_FILE } from './validate-feature';
import { FactoryError } from '../factory-error';

export interface CheckFeatureVersionProps {
  readonly registry: Registry;
  readonly namespace: string;
  readonly id: string;
  /** The version in the packaged feature's `devcontainer-feature.json`. */
  readonly version: string;
  /** The packaged feature's content. */
  readonly packaged: FeatureContent;
}

/** The outcome of the guard: publish a new version, or nothing to do. */
export type FeatureVersionCheck =
  | { readonly status: 'new'; readonly version: string }
  | { readonly status: 'unchanged'; readonly version: string; /** Digest of the published manifest. */ readonly digest: string };

/** Thrown when the version is already published with other content. */
export class FeatureVersionConflictError extends FactoryError {
  readonly repository: string;
  readonly version: string;
  /** One line per differing file. */
  readonly differences: readonly string[];
  /** A version that is not yet published, to suggest. */
  readonly suggestedVersion: string;
  constructor(props: { registry: string; repository: string; version: string; differences: readonly string[]; suggestedVersion: string }, options?: { cause?: unknown }) {
    const shown = props.differences.slice(0, 20);
    super(
      [
        `${props.registry}/${props.repository}:${props.version} is already published with different content, and a published version is never overwritten.`,
        `Bump "version" in devcontainer-feature.json (e.g. to "${props.suggestedVersion}") and upload the feature again.`,
        'What changed:',
        ...shown.map((d) => `  ${d}`),
        ...(props.differences.length > shown.length ? [`  … and ${props.differences.length - shown.length} more`] : []),
      ].join('\n'),
      options,
    );
    this.repository = props.repository;
    this.version = props.version;
    this.differences = props.differences;
    this.suggestedVersion = props.suggestedVersion;
  }
}

/**
 * Decides whether `version` may be published: `new` when the registry does not
 * have it, `unchanged` when it has exactly this content (publish nothing).
 * @throws FeatureVersionConflictError when the registry has that version with other content
 */
export async function checkFeatureVersion(props: CheckFeatureVersionProps): Promise<FeatureVersionCheck> {
  if (!parseSemver(props.version)) {
    const problem = semverProblem(props.version)!;
    const message = problem.includes('is not a semantic version') ? `"version" '${props.version}' is not a semantic version: use MAJOR.MINOR.PATCH` : `"version" ${problem}`;
    throw new InvalidConfigurationError([{ file: FEATURE_METADATA_FILE, message }]);
  }
  const repository = repositoryName(props.namespace, 'feature', props.id);
  const published = await readPublishedFeature(props.registry, repository, props.version);
  if (!published) return { status: 'new', version: props.version };
  const differences = featureContentDifferences(published.content, props.packaged);
  if (differences.length === 0) return { status: 'unchanged', version: props.version, digest: published.digest };
  const tags = await props.registry.listTags(repository);
  throw new FeatureVersionConflictError({ registry: props.registry.host, repository, version: props.version, differences, suggestedVersion: nextPatch(props.version, tags) });
}

/** The patch after the newest published version of the same MAJOR.MINOR line (or after `version`); the next minor when the patch is at {@link MAX_VERSION_PART}. */
function nextPatch(version: string, tags: readonly string[]): string {
  const v = parseSemver(version)!;
  const line = versionsAmongTags(tags).filter((o) => o.major === v.major && o.minor === v.minor && o.prerelease.length === 0);
  const newest = line.reduce((a, b) => (compareSemver(a, b) >= 0 ? a : b), v);
  if (newest.patch < MAX_VERSION_PART) return formatSemver({ ...newest, patch: newest.patch + 1, prerelease: [] });
  if (newest.minor < MAX_VERSION_PART) return formatSemver({ ...newest, minor: newest.minor + 1, patch: 0, prerelease: [] });
  return formatSemver({ major: Math.min(newest.major + 1, MAX_VERSION_PART), minor: 0, patch: 0, prerelease: [] });
}
