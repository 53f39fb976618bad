import { Duration } from 'aws-cdk-lib';
import type * as codebuild from 'aws-cdk-lib/aws-codebuild';
import type * as codepipeline from 'aws-cdk-lib/aws-codepipeline';
import * as iam from 'aws-cdk-lib/aws-iam';
import { imageBuildSpec } from './buildspecs';
import { platformStage } from './platform-stage';
import type { PrepareOutputs, StageContext } from './stage-context';

/** Longest Build run before CodeBuild stops it. */
export const BUILD_TIMEOUT = Duration.minutes(60);

/**
 * Build: one privileged CodeBuild project per platform on native hardware (ARM or
 * x86 CodeBuild images, no emulation), run in parallel. They share one role that
 * can push to the image's staging repository (per-arch images and the registry
 * caches) and pull the base images; it cannot write the release repository.
 */
export function buildStage(ctx: StageContext, prepare: PrepareOutputs): { stage: codepipeline.StageProps; role: iam.Role; projects: codebuild.PipelineProject[] } {
  const role = new iam.Role(ctx.scope, 'BuildRole', {
    assumedBy: new iam.ServicePrincipal('codebuild.amazonaws.com'),
    description: `devcontainer-factory: Build of ${ctx.repository}; pushes <build>-<arch> and the registry caches to ${ctx.stagingRepository}`,
  });
  // Staging only: what an engineer's Dockerfile runs here cannot touch what users pull.
  ctx.warehouse.grantPush(role, ctx.stagingRepository);
  if (ctx.baseRepositories.length) ctx.warehouse.grantPull(role, ...ctx.baseRepositories);

  const { stage, projects } = platformStage(ctx, prepare, {
    stageName: 'Build',
    role,
    description: (platform, hw) => `devcontainer-factory: builds ${ctx.repository} for ${platform} on native ${hw.arch} hardware, into ${ctx.stagingRepository}`,
    buildSpec: (platform) =>
      imageBuildSpec({
        platform,
        registryHost: ctx.warehouse.registryHost,
        repository: ctx.stagingRepository,
        namespace: ctx.warehouse.namespace,
        devcontainerCliVersion: ctx.devcontainerCliVersion,
        buildkitImage: ctx.buildkitImage,
      }),
    timeout: BUILD_TIMEOUT,
    privilegedReason: 'devcontainer build runs Docker (buildx with a docker-container builder), which needs privileged mode',
  });
  return { stage, role, projects };
}
