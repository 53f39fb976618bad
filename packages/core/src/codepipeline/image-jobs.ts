/**
 * The contract between the image pipeline construct and its Lambda actions: the
 * UserParameters each action receives (JSON the construct
 * writes) and the output variables each one sets. Both sides import these, so a
 * renamed variable breaks the build, not a deployed pipeline.
 */
import { JobParametersError, stringListParameter, stringParameter } from './job-event';

/** Output variables of the Prepare action. */
export const PREPARE_VARIABLES = {
  /** 16 hex digits: sha256 of the zip and the base digests (see `imageBuildId`). */
  buildId: 'BuildId',
  /** The configuration's semantic version, or {@link NO_VERSION}. */
  version: 'Version',
  /** `'true'` when the build id is already released: Build, Manifest and Test are skipped. */
  released: 'Released',
  /** `repo@sha256:…` of each base image, comma-separated, or {@link NO_BASES}. */
  baseDigests: 'BaseDigests',
  /** The build's input record (`formatInputRecord`): the configuration's digest and every base image and feature with its digest. */
  inputs: 'Inputs',
  /** Why this build (what moved since the release `latest` points at), or that nothing moved. */
  reason: 'Reason',
} as const;

/** Output variables of the Manifest action. */
export const MANIFEST_VARIABLES = {
  /** Digest of the image index `<build>`. */
  indexDigest: 'IndexDigest',
} as const;

/** Output variables of the Release action. */
export const RELEASE_VARIABLES = {
  /** Digest the release tags point at. */
  digest: 'Digest',
  /** Every release tag of this build, comma-separated. */
  tags: 'Tags',
  /** Tags this run moved (the others already pointed here), comma-separated, or `none`. */
  moved: 'Moved',
} as const;

/** The value of `Version` when the configuration has none (output variables are never empty). */
export const NO_VERSION = 'none';
/** The value of `BaseDigests` for an image that depends on no factory image. */
export const NO_BASES = 'none';
/** The tag of a base image whose push starts a dependent image's pipeline and whose digest enters the build id. */
export const BASE_IMAGE_TAG = 'latest';

/** The release tag rules an image can have. */
export const RELEASE_TAG_RULES = ['latest', 'semver', 'date'] as const;
export type ReleaseTagRuleName = (typeof RELEASE_TAG_RULES)[number];

/** UserParameters of the Prepare action. */
export interface PrepareParameters {
  /** The registry host, `<account>.dkr.ecr.<region>.amazonaws.com`. */
  readonly registryHost: string;
  /** The image's repository, `<ns>/images/<id>`. */
  readonly repository: string;
  /** Repositories of the factory images this one is built on (catalogue `dependsOn`). */
  readonly baseRepositories: readonly string[];
  /** The factory's namespace, the value of `${localEnv:DCF_NAMESPACE}` in configurations. */
  readonly namespace: string;
}

/** UserParameters of the Manifest action. */
export interface ManifestParameters {
  readonly registryHost: string;
  /** The staging repository, `<ns>/builds/<id>`, where Build pushed `<build>-<arch>`. */
  readonly repository: string;
  /** `#{Prepare.BuildId}`. */
  readonly buildId: string;
  /** The platforms built, e.g. `['linux/amd64', 'linux/arm64']`. */
  readonly platforms: readonly string[];
  /** `#{Prepare.Inputs}`: the build's input record, put on the index as an annotation. */
  readonly inputs: string;
}

/** UserParameters of the Release action. */
export interface ReleaseParameters {
  readonly registryHost: string;
  /** The release repository, `<ns>/images/<id>`: the only one users pull from. */
  readonly repository: string;
  /** The staging repository Build, Manifest and Test worked in, `<ns>/builds/<id>`: the build is promoted from there. */
  readonly stagingRepository: string;
  /** `#{Prepare.BuildId}`. */
  readonly buildId: string;
  /** `#{Prepare.Version}`: a semantic version or {@link NO_VERSION}. */
  readonly version: string;
  /** Which tags to apply. */
  readonly rules: readonly ReleaseTagRuleName[];
}

function common(params: Record<string, unknown>) {
  return { registryHost: stringParameter(params, 'registryHost'), repository: stringParameter(params, 'repository') };
}

export function parsePrepareParameters(params: Record<string, unknown>): PrepareParameters {
  return { ...common(params), baseRepositories: stringListParameter(params, 'baseRepositories'), namespace: stringParameter(params, 'namespace') };
}

export function parseManifestParameters(params: Record<string, unknown>): ManifestParameters {
  const platforms = stringListParameter(params, 'platforms');
  if (platforms.length === 0) throw new JobParametersError('UserParameters.platforms must name at least one platform');
  return { ...common(params), buildId: stringParameter(params, 'buildId'), platforms, inputs: stringParameter(params, 'inputs') };
}

export function parseReleaseParameters(params: Record<string, unknown>): ReleaseParameters {
  const rules = stringListParameter(params, 'rules');
  const unknown = rules.filter((r) => !(RELEASE_TAG_RULES as readonly string[]).includes(r));
  if (unknown.length > 0) {
    throw new JobParametersError(`UserParameters.rules has unknown rules ${unknown.join(', ')}: use ${RELEASE_TAG_RULES.join(', ')}`);
  }
  return {
    ...common(params),
    stagingRepository: stringParameter(params, 'stagingRepository'),
    buildId: stringParameter(params, 'buildId'),
    version: stringParameter(params, 'version'),
    rules: rules as ReleaseTagRuleName[],
  };
}
