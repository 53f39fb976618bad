/**
 * The per-image choices of an image pipeline (from the catalogue) and their
 * defaults, in one place.
 */
import {
  PLATFORMS,
  COMPUTE_SIZES,
  DEVCONTAINER_CLI_VERSION,
  RELEASE_TAG_RULES,
  type PlatformName,
  type ComputeSize,
  type ReleaseTagRule,
  type ImageSettings,
  type RefreshSchedule,
} from '@devcontainer-factory/core';

// The domain rules are defined once, in @devcontainer-factory/core; this package re-exports them under the same names.

/**
 * Which release tags an image gets (see the README's "Tags"), and the CodeBuild
 * on-demand compute of the Build and Test projects, the same on ARM and x86:
 * small = 2 vCPU / 4 GiB, medium = 4 vCPU / 8 GiB, large = 8 vCPU / 16 GiB,
 * xlarge = 36 vCPU / 72 GiB, 2xlarge = 72 vCPU / 144 GiB (ARM sizes above large
 * are not in every region).
 */
export type { ComputeSize, ImageSettings, PlatformName, ReleaseTagRule, RefreshSchedule };

/** Every platform (each on native CodeBuild hardware, built by default), every release tag rule and every compute size, from core. */
export { COMPUTE_SIZES, PLATFORMS, RELEASE_TAG_RULES };

/** Every rule: `latest`, the semver set when the configuration has a version, and a date tag. */
export const DEFAULT_RELEASE_TAGS: readonly ReleaseTagRule[] = RELEASE_TAG_RULES;
/** 4 vCPU / 8 GiB: a typical devcontainer image (a language runtime plus a few features) builds in 5–15 minutes. */
export const DEFAULT_COMPUTE_SIZE: ComputeSize = 'medium';
/** The `@devcontainers/cli` version the Build and Test projects install; the same one the repository tests with. */
export const DEFAULT_DEVCONTAINER_CLI_VERSION: string = DEVCONTAINER_CLI_VERSION;
/**
 * The BuildKit release the Build projects' builder runs: the newest the factory could
 * establish (moby/buildkit's signed tag v0.32.2 of 2026-08-04, which buildx v0.36.1
 * vendors), pinned to that tag rather than buildx's floating `buildx-stable-1`. No digest
 * of it was published where the factory could check it, so the default is pinned by tag
 * only and a synth-time warning says so: pin `buildkitImage` by digest (`…:v0.32.2@sha256:…`,
 * from `docker buildx imagetools inspect public.ecr.aws/vend/moby/buildkit:v0.32.2`).
 */
export const BUILDKIT_VERSION = 'v0.32.2';
/**
 * The BuildKit image of the `docker-container` builder the Build projects create (the
 * `docker` driver cannot export a registry cache): moby/buildkit, as ECR Public mirrors
 * it. Never Docker Hub, which answers `429 toomanyrequests` to anonymous pulls from
 * CodeBuild's shared addresses.
 */
export const BUILDKIT_IMAGE_PATH = `vend/moby/buildkit:${BUILDKIT_VERSION}`;
/** ECR Public's registry host. */
export const ECR_PUBLIC_REGISTRY = 'public.ecr.aws';
export const DEFAULT_BUILDKIT_IMAGE = `${ECR_PUBLIC_REGISTRY}/${BUILDKIT_IMAGE_PATH}`;
