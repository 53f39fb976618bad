/**
 * The tags a feature release moves, by the same rule as image releases and the
 * devcontainer CLI: `X.Y.Z` always; `X.Y`, `X` and `latest` only when no newer
 * version of that line is published. The factory computes them before the CLI
 * publishes and checks the registry afterwards, so a CLI that tags otherwise
 * fails the pipeline instead of moving tags by a rule nobody agreed on.
 */
import type { Registry } from '../registry/registry';
import { semverTags } from '../semver';
import { FactoryError } from '../factory-error';

/** Thrown when the registry's tags after a publish are not the ones the factory computed. */
export class FeatureTagMismatchError extends FactoryError {}

/** The tags publishing `version` applies, given the tags the feature's repository has. */
export function featureReleaseTags(version: string, publishedTags: readonly string[]): string[] {
  return semverTags(version, publishedTags);
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
