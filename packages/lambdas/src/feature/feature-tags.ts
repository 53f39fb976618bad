/**
 * The tags a feature release moves, by the same rule as image releases and the
 * devcontainer CLI: `X.Y.Z` always; `X.Y`, `X` and `latest` only when no newer
 * version of that line is published. The factory computes them before the CLI
 * publishes and checks the registry afterwards, so a CLI that tags otherwise
 * fails the pipeline instead of moving tags by a rule nobody agreed on.
 */
import type { Registry } from '../registry/registry';
import { semverTags } from '../semver';

/** Thrown when the registry's tags after a publish are not the ones the factory computed. */
export class FeatureTagMismatchError extends Error {
  constructor(message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = 'FeatureTagMismatchError';
  }
}

/** The tags publishing `version` applies, given the tags the feature's repository has. */
export function featureReleaseTags(version: string, publishedTags: readonly string[]): string[] {
  return semverTags(version, publishedTags);
}

/**
 * Checks that each of `tags` points at `digest` in the repository.
 * @throws FeatureTagMismatchError naming each tag that does not
 */
export async function verifyFeatureTags(registry: Registry, repository: string, digest: string, tags: readonly string[]): Promise<void> {
  const wrong: string[] = [];
  for (const tag of tags) {
    const stored = await registry.getManifest(repository, tag);
    if (stored?.digest !== digest) wrong.push(`${tag} -> ${stored?.digest ?? '(missing)'}`);
  }
  if (wrong.length > 0) {
    throw new FeatureTagMismatchError(`${registry.host}/${repository}: after publishing ${digest}, these tags do not point at it: ${wrong.join(', ')}; expected ${tags.join(', ')}`);
  }
}
