import { Duration } from 'aws-cdk-lib';
import type * as codebuild from 'aws-cdk-lib/aws-codebuild';
import type * as codepipeline from 'aws-cdk-lib/aws-codepipeline';
import * as iam from 'aws-cdk-lib/aws-iam';
import * as s3assets from 'aws-cdk-lib/aws-s3-assets';
import { join } from 'node:path';
import { IMAGE_TOOL, bundleDir } from '@devcontainer-factory/lambdas';
import { codeBuildInAccount } from '@devcontainer-factory/pipeline-parts';
import { imageBuildSpec } from './buildspecs';
import { platformStage } from './platform-stage';
import type { PrepareOutputs, StageContext } from './stage-context';

/** Longest Build run before CodeBuild stops it. */
export const BUILD_TIMEOUT = Duration.minutes(60);

/**
 * Build: one privileged CodeBuild project per platform on native hardware (ARM or
 * x86 CodeBuild images, no emulation), run in parallel. They share one role that
 * can push to the image's staging repository (per-arch images and the registry
 * caches, and each image's SBOM beside it) and pull the base images, and read the
 * image tool; it cannot write the release repository. Each action takes the
 * configuration as its primary source and Prepare's input record as a secondary one.
 */
export function buildStage(
  ctx: StageContext,
  prepare: PrepareOutputs,
): { stage: codepipeline.StageProps; role: iam.Role; projects: codebuild.PipelineProject[] } {
  const role = new iam.Role(ctx.scope, 'BuildRole', {
    assumedBy: codeBuildInAccount(ctx.scope),
    description: `devcontainer-factory: Build of ${ctx.repository}; pushes <build>-<arch> and the registry caches to ${ctx.stagingRepository}`,
  });
  // Staging only: what an engineer's Dockerfile runs here cannot touch what users pull.
  ctx.warehouse.grantPush(role, ctx.stagingRepository);
  // What the build starts from and installs: the factory's base images and features (the devcontainer CLI pulls each feature's tarball).
  if (ctx.baseRepositories.length || ctx.featureRepositories.length) ctx.warehouse.grantPull(role, ...ctx.baseRepositories, ...ctx.featureRepositories);
  // The SBOM step's tool (a bundle of the functions `dcf local` runs), read from the CDK asset bucket.
  const tool = new s3assets.Asset(ctx.scope, 'ImageTool', { path: join(bundleDir(IMAGE_TOOL), 'index.js') });
  // That one object only (CDK's asset grant would read and list the whole asset bucket).
  role.addToPolicy(new iam.PolicyStatement({ actions: ['s3:GetObject'], resources: [tool.bucket.arnForObjects(tool.s3ObjectKey)] }));

  const { stage, projects } = platformStage(ctx, prepare, {
    stageName: 'Build',
    role,
    description: (platform, hw) =>
      `devcontainer-factory: builds ${ctx.repository} for ${platform} on native ${hw.arch} hardware, into ${ctx.stagingRepository}`,
    buildSpec: (platform) =>
      imageBuildSpec({
        platform,
        registryHost: ctx.warehouse.registryHost,
        repository: ctx.stagingRepository,
        namespace: ctx.warehouse.namespace,
        devcontainerCliVersion: ctx.devcontainerCliVersion,
        devcontainerCliIntegrity: ctx.devcontainerCliIntegrity,
        buildkitImage: ctx.buildkitImage,
        dockerHubCachePrefix: ctx.dockerHubCachePrefix,
        toolBucket: tool.s3BucketName,
        toolKey: tool.s3ObjectKey,
        inputsArtifact: prepare.inputsArtifact.artifactName!,
      }),
    // The bases and features with their digests, for the SBOM: Prepare's output artifact, read
    // with the pipeline's other artifacts (the role reads its pipeline's artifact prefix).
    extraInputs: [prepare.inputsArtifact],
    timeout: BUILD_TIMEOUT,
    privilegedReason: 'devcontainer build runs Docker (buildx with a docker-container builder), which needs privileged mode',
  });
  return { stage, role, projects };
}
