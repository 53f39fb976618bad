/**
 * The BuildKit image of the Build projects' `docker-container` builder: the pinned default
 * (through the ECR Public pull-through cache when there is one) or the caller's, checked:
 * it must name its registry host (no anonymous Docker Hub pull) and a tag or a digest,
 * and a synth-time warning says when it is not pinned by digest (a tag can be moved).
 */
import { Annotations, Token, Tokenization } from 'aws-cdk-lib';
import type { IConstruct } from 'constructs';
import { namesRegistryHost } from '@devcontainer-factory/core';
import { BUILDKIT_IMAGE_PATH, BUILDKIT_VERSION, DEFAULT_BUILDKIT_IMAGE } from '../image-pipeline-options';
import { ImagePipelinePropsError } from '../image-pipeline-props-error';
import { isImageReference, referencePin } from './image-reference';

/** The id of the warning for a BuildKit image pinned by tag only (acknowledge it with `Annotations.of(scope).acknowledgeWarning`). */
export const BUILDKIT_NOT_PINNED_WARNING = 'devcontainer-factory:buildkit-image-not-pinned';

/** The reference with each token replaced by a name a reference may hold, so that its literal parts can be checked. */
function literalShape(reference: string): string {
  if (!Token.isUnresolved(reference)) return reference;
  return Tokenization.reverseString(reference)
    .mapTokens({ mapToken: () => 'deploy-time.invalid' })
    .join({ join: (left: unknown, right: unknown) => `${String(left)}${String(right)}` }) as string;
}

/**
 * The BuildKit image Build uses, checked.
 * @param given `buildkitImage` of the props, if any
 * @param cache `<registry>/<ecrPublicCachePrefix>` when BuildKit comes through the ECR Public pull-through cache
 */
export function buildkitImage(scope: IConstruct, given: string | undefined, cache: string | undefined): string {
  const image = given ?? (cache ? `${cache}/${BUILDKIT_IMAGE_PATH}` : DEFAULT_BUILDKIT_IMAGE);
  const shape = literalShape(image);
  if (Token.isUnresolved(image) && !(isImageReference(shape) && namesRegistryHost(shape))) {
    // A reference made entirely at deploy time (an SSM parameter, say): nothing of it can be read here.
    Annotations.of(scope).addWarningV2(
      BUILDKIT_NOT_PINNED_WARNING,
      `the BuildKit image of Build is resolved at deploy time, so nothing checks that it names its registry and a digest: make sure it does`,
    );
    return image;
  }
  if (!(isImageReference(shape) && namesRegistryHost(shape))) {
    throw new ImagePipelinePropsError(
      `buildkitImage '${image}' is not an image reference with a registry host: use registry/name:tag[@sha256:digest] in lowercase, e.g. ${DEFAULT_BUILDKIT_IMAGE} (a name without a host would be pulled anonymously from Docker Hub)`,
    );
  }
  const pin = referencePin(shape);
  if (pin === 'none') {
    throw new ImagePipelinePropsError(
      `buildkitImage '${image}' names neither a tag nor a digest, so every build would pull whatever :latest is then: pin a release, e.g. ${DEFAULT_BUILDKIT_IMAGE}, or better its digest (${DEFAULT_BUILDKIT_IMAGE}@sha256:…)`,
    );
  }
  if (pin === 'tag') {
    Annotations.of(scope).addWarningV2(
      BUILDKIT_NOT_PINNED_WARNING,
      `the BuildKit image of Build, ${given === undefined ? `the default ${BUILDKIT_IMAGE_PATH.split(':')[0]}:${BUILDKIT_VERSION}` : `'${image}'`}, is pinned by tag only, which its registry can move to other content: ` +
        `pin it by digest (buildkitImage: '<image>:<tag>@sha256:<digest>', the digest from 'docker buildx imagetools inspect <image>:<tag>')`,
    );
  }
  return image;
}
