/**
 * The rule the devcontainer CLI does not enforce: a published version is never
 * overwritten, and an upload that changes a feature without changing its version
 * fails instead of being skipped in silence. The packaged feature is compared with
 * what the registry holds under that version, file by file (content and execute
 * bit), because the CLI's tarballs are not byte-reproducible. Versions the CLI would
 * accept but the factory does not publish (`v1.2.3`, `1.2.3+build.1`, pre-releases)
 * are refused here too, before anything is written, with the reason.
 */
import { InvalidConfigurationError } from '../config-files';
import { repositoryName } from '../naming';
import type { Registry } from '../oci/registry';
import { MAX_VERSION_PART, compareSemver, formatSemver, parseSemver, type SemVer } from '../semver';
import { readPublishedFeature } from './feature-artifact';
import { featureContentDifferences, type FeatureContent } from './feature-content';
import { cliCountedReleases, featureReleaseTags, featureVersionProblem } from './feature-tags';
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
  constructor(
    props: { registry: string; repository: string; version: string; differences: readonly string[]; suggestedVersion: string },
    options?: { cause?: unknown },
  ) {
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
 * @throws InvalidConfigurationError when `version` is not a release the factory publishes (a `v` prefix, build metadata, a pre-release), saying why
 * @throws FeatureVersionConflictError when the registry has that version with other content
 */
export async function checkFeatureVersion(props: CheckFeatureVersionProps): Promise<FeatureVersionCheck> {
  const problem = featureVersionProblem(props.version);
  if (problem !== undefined) throw new InvalidConfigurationError([{ file: FEATURE_METADATA_FILE, message: `"version" ${problem}` }]);
  const repository = repositoryName(props.namespace, 'feature', props.id);
  const v = parseSemver(props.version)!;
  if (v.prerelease.length > 0) {
    const tags = await props.registry.listTags(repository);
    throw new InvalidConfigurationError([{ file: FEATURE_METADATA_FILE, message: `"version" ${preReleaseProblem(props.version, v, tags)}` }]);
  }
  const published = await readPublishedFeature(props.registry, repository, props.version);
  if (!published) return { status: 'new', version: props.version };
  const differences = featureContentDifferences(published.content, props.packaged);
  if (differences.length === 0) return { status: 'unchanged', version: props.version, digest: published.digest };
  const tags = await props.registry.listTags(repository);
  throw new FeatureVersionConflictError({
    registry: props.registry.host,
    repository,
    version: props.version,
    differences,
    suggestedVersion: nextPatch(v, tags),
  });
}

/**
 * Why the pre-release `version` is refused, naming exactly the tags
 * `devcontainer features publish` would move to it over `tags` (see
 * {@link featureReleaseTags}): `0.2.0-rc.1` over a published 1.1.0 would take `0`
 * and `0.2`, not `latest`.
 */
function preReleaseProblem(version: string, v: SemVer, tags: readonly string[]): string {
  const cliTags = featureReleaseTags(version, tags);
  // In the order the CLI lists them: MAJOR, MAJOR.MINOR, latest.
  const moved = [`${v.major}`, `${v.major}.${v.minor}`, 'latest'].filter((t) => cliTags.includes(t));
  const release: SemVer = { ...v, prerelease: [] };
  const taken = cliCountedReleases(tags).some((o) => compareSemver(o, release) === 0);
  const instead = `publish a release version (MAJOR.MINOR.PATCH) instead, e.g. "${taken ? nextPatch(release, tags) : formatSemver(release)}"`;
  const head = `'${version}' is a pre-release, and the factory publishes feature releases only`;
  if (moved.length === 0) {
    return `${head} (devcontainer features publish would move no other tag to it here, but treats a pre-release as a release: it moves 'X', 'X.Y' and 'latest' to one newer than every release of those lines): ${instead}`;
  }
  const names = moved.map((t) => `'${t}'`);
  const list = names.length === 1 ? names[0] : `${names.slice(0, -1).join(', ')} and ${names[names.length - 1]}`;
  return `${head}: devcontainer features publish would move ${list} to it, so whoever pins ${moved.length === 1 ? 'that tag' : 'those tags'} would get the pre-release; ${instead}`;
}

/**
 * The patch after the newest published release of the same MAJOR.MINOR line (or after `v`),
 * counting the releases the devcontainer CLI counts (`v1.2.4` is 1.2.4); the next minor when
 * the patch is at {@link MAX_VERSION_PART}.
 */
function nextPatch(v: SemVer, tags: readonly string[]): string {
  const line = cliCountedReleases(tags).filter((o) => o.major === v.major && o.minor === v.minor);
  const newest = line.reduce((a, b) => (compareSemver(a, b) >= 0 ? a : b), v);
  if (newest.patch < MAX_VERSION_PART) return formatSemver({ ...newest, patch: newest.patch + 1, prerelease: [] });
  if (newest.minor < MAX_VERSION_PART) return formatSemver({ ...newest, minor: newest.minor + 1, patch: 0, prerelease: [] });
  return formatSemver({ major: Math.min(newest.major + 1, MAX_VERSION_PART), minor: 0, patch: 0, prerelease: [] });
}
