import { Duration } from 'aws-cdk-lib';
import * as codebuild from 'aws-cdk-lib/aws-codebuild';
import type * as codepipeline from 'aws-cdk-lib/aws-codepipeline';
import * as actions from 'aws-cdk-lib/aws-codepipeline-actions';
import * as iam from 'aws-cdk-lib/aws-iam';
import { imageBuildSpec } from './buildspecs';
import { NAG_REASONS, acknowledgeArtifactAccess, acknowledgeNag, acknowledgeProjectDefaults } from './acknowledge';
import { computeType, platformHardware } from './platform-hardware';
import { skipWhenReleased } from './skip-when-released';
import type { PrepareOutputs, StageContext } from './stage-context';

/** Longest Build run before CodeBuild stops it. */
export const BUILD_TIMEOUT = Duration.minutes(60);

/**
 * Build: one privileged CodeBuild project per platform on native hardware (ARM or
 * x86 CodeBuild images, no emulation), run in parallel. They share one role that
 * can push to the image's repository (per-arch images and the registry caches)
 * and pull the base images.
 */
export function buildStage(ctx: StageContext, prepare: PrepareOutputs): { stage: codepipeline.StageProps; role: iam.Role; projects: codebuild.PipelineProject[] } {
  const role = new iam.Role(ctx.scope, 'BuildRole', {
    assumedBy: new iam.ServicePrincipal('codebuild.amazonaws.com'),
    description: `devcontainer-factory: Build of ${ctx.repository}; pushes <build>-<arch> and the registry caches`,
  });
  ctx.warehouse.grantPush(role, ctx.repository);
  if (ctx.baseRepositories.length) ctx.warehouse.grantPull(role, ...ctx.baseRepositories);
  acknowledgeNag(role, 'IAM5', NAG_REASONS.ecrAuth, 'Resource::*');
  acknowledgeArtifactAccess(role, ctx.warehouse, ['s3:GetObject*', 's3:GetBucket*', 's3:List*']);

  const projects = ctx.platforms.map((platform) => {
    const hw = platformHardware(platform);
    const project = new codebuild.PipelineProject(ctx.scope, `Build${hw.label}`, {
      description: `devcontainer-factory: builds ${ctx.repository} for ${platform} on native ${hw.arch} hardware`,
      role,
      environment: { buildImage: hw.buildImage, computeType: computeType(ctx.computeSize), privileged: true },
      buildSpec: imageBuildSpec({ platform, registryHost: ctx.warehouse.registryHost, repository: ctx.repository, devcontainerCliVersion: ctx.devcontainerCliVersion }),
      encryptionKey: ctx.warehouse.s3Key,
      logging: { cloudWatch: { logGroup: ctx.logGroup, prefix: `build-${hw.arch}` } },
      timeout: BUILD_TIMEOUT,
    });
    acknowledgeNag(project, 'CB3', 'devcontainer build runs Docker (buildx with a docker-container builder), which needs privileged mode');
    acknowledgeProjectDefaults(role, project);
    return project;
  });

  return {
    stage: {
      stageName: 'Build',
      beforeEntry: skipWhenReleased('Build', prepare.released),
      actions: ctx.platforms.map((platform, i) => {
        const hw = platformHardware(platform);
        return new actions.CodeBuildAction({
          actionName: `Build${hw.label}`,
          project: projects[i],
          input: ctx.source,
          runOrder: 1,
          environmentVariables: { BUILD_ID: { value: prepare.buildId } },
        });
      }),
    },
    role,
    projects,
  };
}
