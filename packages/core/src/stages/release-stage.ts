/**
 * The Release stage of the image pipeline as one function: every check, the release,
 * and what the stage reports (its output variables and summary). The Release Lambda
 * and `dcf local` both call it, so a release the cloud refuses is refused locally too.
 */
import { RELEASE_VARIABLES, type ReleaseTagRule } from '../wire/image-jobs';
import type { PromotionResult } from '../image/promote';
import { releaseImage, type ReleaseOptions, type ReleaseResult, type ReleaseRules } from '../image/release';
import type { ReleaseLock } from '../oci/release-lock';
import type { Registry } from '../oci/registry';

export interface ReleaseStageInput {
  /** The release repository, `<ns>/images/<id>`. */
  readonly repository: string;
  /** The staging repository the build was made and tested in, `<ns>/builds/<id>`. */
  readonly staging: string;
  readonly buildId: string;
  /**
   * The image's version.
   * @default - none: no semver tags
   */
  readonly version?: string;
  /** The catalogue's release tag rules of the image. */
  readonly rules: readonly ReleaseTagRule[];
  readonly now: Date;
  /** @default - as {@link ReleaseOptions.lock} */
  readonly lock?: ReleaseLock;
  /**
   * The vulnerability gate, as {@link ReleaseOptions.gate}.
   * @default - no gate: the summary says why ({@link gateOff})
   */
  readonly gate?: ReleaseOptions['gate'];
  /** Why no gate runs, for the summary, when there is no `gate`: e.g. `vulnerability gate off (the staging repository is not scanned)`. */
  readonly gateOff: string;
}

/** What the stage did and reports. */
export interface ReleaseStageOutput {
  readonly result: ReleaseResult;
  /** The Release action's output variables ({@link RELEASE_VARIABLES}). */
  readonly outputVariables: Readonly<Record<string, string>>;
  /** One line for people: the build and its digest, then {@link ReleaseStageOutput.detail}. */
  readonly summary: string;
  /** What was promoted, tagged and moved, and what the gate said, without naming the build (for a report that names it already). */
  readonly detail: string;
}

/** The release rules the catalogue's rule names ask for. */
export function releaseRulesOf(names: readonly ReleaseTagRule[]): ReleaseRules {
  return { latest: names.includes('latest'), semver: names.includes('semver'), date: names.includes('date') };
}

/** How the build came into the release repository, in a few words. */
export function promotionSummary(promotion: PromotionResult | undefined, staging: string): string {
  if (!promotion) return 'already in the release repository';
  if (promotion.alreadyPromoted) return `promoted from ${staging} before`;
  const { present, mounted, copied } = promotion.blobs;
  const referrers = promotion.referrers ? `; ${promotion.referrers} referrer${promotion.referrers > 1 ? 's' : ''}` : '';
  return `promoted from ${staging} (blobs: ${mounted} mounted, ${copied} copied, ${present} present${referrers})`;
}

/**
 * Releases the tested build ({@link releaseImage}), refusing rules that give it no tag
 * before anything is promoted or tagged.
 * @throws ReleaseRulesError when the rules give the build no tag (nothing written)
 * @throws as {@link releaseImage}
 */
export async function runReleaseStage(registry: Registry, input: ReleaseStageInput): Promise<ReleaseStageOutput> {
  const result = await releaseImage(registry, input.repository, {
    buildId: input.buildId,
    staging: input.staging,
    ...(input.version !== undefined && { version: input.version }),
    rules: releaseRulesOf(input.rules),
    now: input.now,
    requireTag: true,
    ...(input.lock && { lock: input.lock }),
    ...(input.gate && { gate: input.gate }),
  });
  const list = (tags: readonly string[]) => (tags.length ? tags.join(',') : 'none');
  const detail =
    `${promotionSummary(result.promotion, input.staging)}, released as ${list(result.tags)}; ` +
    (result.moved.length ? `moved ${result.moved.join(', ')}` : 'every tag already pointed here') +
    (result.pinned ? `; a refresh of ${result.pinned}, which stays on its first build` : '') +
    `; ${result.gate ? `vulnerability gate: ${result.gate.summary}` : input.gateOff}`;
  return {
    result,
    outputVariables: { [RELEASE_VARIABLES.digest]: result.digest, [RELEASE_VARIABLES.tags]: list(result.tags), [RELEASE_VARIABLES.moved]: list(result.moved) },
    summary: `${input.repository}:${input.buildId} (${result.digest}) ${detail}`,
    detail,
  };
}
