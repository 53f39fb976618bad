/**
 * The tags a feature release moves: the rule of `devcontainer features publish`
 * itself (`getSemanticTags` in devcontainers/cli
 * `src/spec-node/collectionCommonUtils/publishCommandImpl.ts`), so that the factory
 * and the CLI never disagree on a repository they both write. `X.Y.Z` always; `X.Y`,
 * `X` and `latest` only when the version is newer than every published release of
 * that line, where "published" is what node-semver reads in the registry's tags. The
 * factory computes them before the CLI publishes and checks the registry afterwards,
 * so a CLI that tags otherwise fails the pipeline instead of moving tags by a rule
 * nobody agreed on.
 */
import type { Registry } from '../oci/registry';
import { compareSemver, parseSemver, semverProblem, type SemVer } from '../semver';
import { FactoryError } from '../factory-error';

/** Thrown when the registry's tags after a publish are not the ones the factory computed. */
export class FeatureTagMismatchError extends FactoryError {}

/**
 * The releases the devcontainer CLI counts among a repository's tags when it decides
 * whether `X`, `X.Y` and `latest` move. It reads them with node-semver's strict
 * parser, which also takes a leading lowercase `v`: a tag `v2.0.0` (published by the
 * CLI from a `"version": "v2.0.0"`, or by hand) counts as 2.0.0. Pre-releases never
 * count (the ranges it asks, such as `2.x.x`, do not match them), and neither do
 * `latest`, `2`, `2.0` or any other tag that is not a whole version. Build metadata
 * cannot occur: `+` is not allowed in a registry tag.
 */
export function cliCountedReleases(publishedTags: readonly string[]): SemVer[] {
  return publishedTags
    .map((tag) => parseSemver(tag.startsWith('v') ? tag.slice(1) : tag))
    .filter((v): v is SemVer => v !== undefined && v.prerelease.length === 0);
}

/**
 * Why `version` cannot be a feature's version, whatever the registry holds, or
 * undefined when it is `X.Y.Z` or `X.Y.Z-pre`. The version is published as a
 * registry tag exactly as written, and the factory keeps that tag immutable and
 * compares it with the others, so it refuses two spellings the devcontainer CLI
 * accepts:
 * - `v1.2.3`: the CLI would tag it `v1.2.3`, a second name for 1.2.3. A later
 *   `1.2.3` is then not "already published" to the CLI (it compares tags as text)
 *   and goes out beside it, under its plain name, with other content.
 * - `1.2.3+build.1`: `+` is not allowed in a registry tag
 *   (`[a-zA-Z0-9_][a-zA-Z0-9._-]{0,127}`), so the CLI moves `1` and `1.2` and then
 *   fails to push `1.2.3+build.1`; and semver orders `1.2.3+a` and `1.2.3+b` as one
 *   version, so two builds could not be told apart.
 */
export function featureVersionProblem(version: string): string | undefined {
  const [, v, core, build] = /^(v?)([^+]*)(?:\+(.*))?$/s.exec(version)!;
  const parsed = parseSemver(core);
  if (parsed && (v || build !== undefined)) {
    const reasons: string[] = [];
    if (v) {
      reasons.push(
        `the devcontainer CLI would publish it as the tag '${v}${core}', a second name for ${core} that the factory cannot keep immutable: ` +
          `to the CLI, ${core} would still be unpublished, and could go out beside it with other content`,
      );
    }
    if (build !== undefined) {
      reasons.push(
        `build metadata ('+${build}') cannot be published: '+' is not allowed in a registry tag ([a-zA-Z0-9_][a-zA-Z0-9._-]{0,127}), ` +
          `so the devcontainer CLI could move '${parsed.major}' and '${parsed.major}.${parsed.minor}' and then fail to push the version's own tag; ` +
          `and semver orders ${core}+a and ${core}+b as one version, so no tag could tell two builds apart`,
      );
    }
    const bump = build !== undefined ? ', and bump PATCH for each new build' : '';
    return `'${version}' is not a version the factory publishes: ${reasons.join('; ')}. Write "${core}"${bump}`;
  }
  const problem = semverProblem(version);
  if (problem?.includes('is not a semantic version')) return `'${version}' is not a semantic version: use MAJOR.MINOR.PATCH, e.g. "1.0.0"`;
  return problem;
}

/**
 * The tags `devcontainer features publish` pushes for `version`, given the tags the
 * feature's repository has: `X.Y.Z`; `X.Y` when it is newer than every counted
 * release `X.Y.*`; `X` when newer than every counted `X.*`; `latest` when newer than
 * every counted release (see {@link cliCountedReleases}: `v2.0.0` counts). "Newer" is
 * strict: a version equal to a counted one (`2.0.0` over `v2.0.0`) moves nothing but
 * its own tag. A pre-release gets `X`, `X.Y` and `latest` by the same rule, which is
 * why the factory refuses pre-releases; and when `version` itself is a tag, the CLI
 * skips the publish and pushes nothing.
 * @throws Error when `version` is not one the factory publishes (see {@link featureVersionProblem})
 */
export function featureReleaseTags(version: string, publishedTags: readonly string[]): string[] {
  const problem = featureVersionProblem(version);
  if (problem !== undefined) throw new Error(problem);
  if (publishedTags.includes(version)) return [];
  const v = parseSemver(version)!;
  const released = cliCountedReleases(publishedTags);
  const newerThanAll = (pool: SemVer[]) => pool.every((o) => compareSemver(v, o) > 0);
  const tags = [version];
  if (newerThanAll(released.filter((o) => o.major === v.major && o.minor === v.minor))) tags.push(`${v.major}.${v.minor}`);
  if (newerThanAll(released.filter((o) => o.major === v.major))) tags.push(`${v.major}`);
  if (newerThanAll(released)) tags.push('latest');
  return tags;
}

/**
 * Thrown when a tag read back after a publish points at another digest than the
 * one just published: another publish wrote it at the same time, and this one lost.
 */
export class FeatureTagRaceError extends FeatureTagMismatchError {
  constructor(
    /** `<host>/<repository>`. */
    readonly repository: string,
    /** The first tag that points elsewhere. */
    readonly tag: string,
    /** The digest this publish put under the tag. */
    readonly expectedDigest: string,
    /** The digest the tag points at (undefined: the tag is missing). */
    readonly foundDigest: string | undefined,
    /** Every tag that points elsewhere, as `tag -> digest`. */
    readonly wrong: readonly string[],
    /** The tags that were to point at `expectedDigest`. */
    readonly expectedTags: readonly string[],
    options?: { cause?: unknown },
  ) {
    super(
      `${repository}: after publishing ${expectedDigest}, these tags do not point at it: ${wrong.join(', ')}; expected ${expectedTags.join(', ')}. ` +
        `Another publish of this feature ran at the same time and this one lost: bump the version, or run again to see whether the version is taken`,
      options,
    );
  }
}

/**
 * Checks that each of `tags` points at `digest` in the repository.
 * @throws FeatureTagRaceError naming each tag that does not
 */
export async function verifyFeatureTags(registry: Registry, repository: string, digest: string, tags: readonly string[]): Promise<void> {
  const wrong: Array<{ tag: string; found?: string }> = [];
  for (const tag of tags) {
    const stored = await registry.getManifest(repository, tag);
    if (stored?.digest !== digest) wrong.push({ tag, found: stored?.digest });
  }
  if (wrong.length > 0) {
    throw new FeatureTagRaceError(
      `${registry.host}/${repository}`,
      wrong[0].tag,
      digest,
      wrong[0].found,
      wrong.map((w) => `${w.tag} -> ${w.found ?? '(missing)'}`),
      tags,
    );
  }
}
