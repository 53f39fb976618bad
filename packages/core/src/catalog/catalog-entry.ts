/**
 * The entries of the factory's catalogue: which images and features get a
 * pipeline, and the per-image settings that must be known at deploy time. The
 * factory app and `dcf local` read the same format.
 */
import type { ReleaseTagRule } from '../wire/image-jobs';

import type { VulnerabilityPolicy } from '../supply-chain/vulnerability-gate';

/** The platforms a catalogue image may be built for, each on native hardware. */
export const PLATFORMS = ['linux/amd64', 'linux/arm64'] as const;
/** CodeBuild compute sizes an image's Build and Test may use. */
export const COMPUTE_SIZES = ['small', 'medium', 'large', 'xlarge', '2xlarge'] as const;
/** CodeBuild compute sizes a feature's Test may use. */
export const FEATURE_COMPUTE_SIZES = ['small', 'medium', 'large'] as const;

/**
 * How often an image's pipeline is started on a schedule, so that a moved upstream
 * base image or feature is picked up (Prepare skips the build in seconds when no input
 * moved); `off` for no schedule.
 */
export const REFRESH_SCHEDULES = ['daily', 'weekly', 'off'] as const;

export type PlatformName = (typeof PLATFORMS)[number];
export type ComputeSize = (typeof COMPUTE_SIZES)[number];
export type FeatureComputeSize = (typeof FEATURE_COMPUTE_SIZES)[number];
/** `daily`, `weekly` or `off` (see {@link REFRESH_SCHEDULES}). */
export type RefreshSchedule = (typeof REFRESH_SCHEDULES)[number];
/** Once a week: upstream bases and features are picked up within a week without a build a day per image. */
export const DEFAULT_REFRESH: RefreshSchedule = 'weekly';

/**
 * The settings of one image that the catalogue entry and the image pipeline construct
 * (`ImagePipelineProps`) both take, with the same meaning and defaults.
 */
export interface ImageSettings {
  /**
   * Platforms to build and test, each on native CodeBuild hardware.
   * @default - every platform in PLATFORMS: ['linux/amd64', 'linux/arm64']
   */
  readonly platforms?: PlatformName[];
  /**
   * CodeBuild compute of the Build and Test projects.
   * @default 'medium' (4 vCPU, 8 GiB)
   */
  readonly computeSize?: ComputeSize;
  /**
   * Ids of factory images of the same namespace that this image is built on: each is
   * built first, their `latest` digests enter the build id, and a push of their `latest`
   * starts this image's pipeline.
   * @default - no factory base image
   */
  readonly dependsOn?: string[];
  /**
   * Which release tags Release moves after Test passes.
   * @default - every rule in RELEASE_TAG_RULES: ['latest', 'semver', 'date']
   */
  readonly releaseTags?: ReleaseTagRule[];
  /**
   * How often the pipeline is started on a schedule to pick up moved upstream base
   * images and features (a start in which no input moved is skipped by Prepare in seconds).
   * @default 'weekly' (DEFAULT_REFRESH)
   */
  readonly refresh?: RefreshSchedule;
  /**
   * Ids of factory features of the same namespace that the image's configuration uses;
   * a push of any tag of one of them (`<ns>/features/<id>`) starts the image's pipeline.
   * @default - no factory feature
   */
  readonly usesFeatures?: string[];
}

/** An image of the catalogue; an entry may also be written as the bare id. */
export interface CatalogImageEntry extends ImageSettings {
  /** Lowercase `[a-z0-9][a-z0-9-]*` (see `validateId`). */
  readonly id: string;
  /**
   * How many date tags (`YYYYMMDD`) the release repository keeps, newest first; the
   * retention job deletes older ones (every `X.Y.Z`, `X.Y`, `X` and `latest` is kept).
   * @default - the retention default (10)
   */
  readonly keepDateTags?: number;
  /**
   * What scan findings block the image's release: `blockAt` a severity (or `none`),
   * and `allow`, findings allowed until an expiry date, each with a reason.
   * @default - DEFAULT_VULNERABILITY_POLICY: any CRITICAL finding blocks
   */
  readonly vulnerabilities?: Partial<VulnerabilityPolicy>;
  /**
   * Whether a person approves each release before Release promotes and tags it: the
   * pipeline waits after Test for a manual approval (up to 7 days), announced on the
   * namespace's failure topic. A build that is already released (an unchanged upload, a
   * refresh in which nothing moved) is not asked again. `dcf local` treats it as given.
   * @default false - Release follows a passed Test
   */
  readonly approval?: boolean;
}

/** A feature of the catalogue; an entry may also be written as the bare id. */
export interface CatalogFeatureEntry {
  /** Lowercase `[a-z0-9][a-z0-9-]*` (see `validateId`). */
  readonly id: string;
  /**
   * CodeBuild compute of the Test project.
   * @default - the feature pipeline's default (small)
   */
  readonly computeSize?: FeatureComputeSize;
  /**
   * Whether a person approves each version before Publish pushes it: the pipeline waits
   * after Test for a manual approval (up to 7 days), announced on the namespace's failure
   * topic. `dcf local` treats it as given.
   * @default false - Publish follows a passed Test
   */
  readonly approval?: boolean;
}

/** A catalogue file as read and checked by `readCatalogFile`. */
export interface CatalogFile {
  /**
   * The namespace the file names (checked by whoever applies it, since context or a flag may override it).
   * @default - the file names none
   */
  readonly namespace?: string;
  /** In file order; ids valid and unique, `dependsOn` and `usesFeatures` not yet checked (see `checkDependencies`, `checkFeatureUses`). */
  readonly images: CatalogImageEntry[];
  /** In file order; ids valid and unique. */
  readonly features: CatalogFeatureEntry[];
}
