import { Duration } from 'aws-cdk-lib';
import * as codebuild from 'aws-cdk-lib/aws-codebuild';
import type * as codepipeline from 'aws-cdk-lib/aws-codepipeline';
import * as actions from 'aws-cdk-lib/aws-codepipeline-actions';
import * as iam from 'aws-cdk-lib/aws-iam';
import { imageTestSpec } from './buildspecs';
import { NAG_REASONS, acknowledgeArtifactAccess, acknowledgeNag, acknowledgeProjectDefaults } from './acknowledge';
import { computeType, platformHardware } from './platform-hardware';
import { skipWhenReleased } from './skip-when-released';
import type { PrepareOutputs, StageContext } from './stage-context';

/** Longest Test run before CodeBuild stops it. */
export const TEST_TIMEOUT = Duration.minutes(30);

/**
 * Test: one privileged CodeBuild project per platform on native hardware, run in
 * parallel, that pulls the index `<build>` and runs the image and its tests. Their
 * shared role can pull from the image's repository and nothing else: Test never
 * pushes.
 */
export function testStage(ctx: StageContext, prepare: PrepareOutputs): { stage: codepipeline.StageProps; role: iam.Role; projects: codebuild.PipelineProject[] } {
  const role = new iam.Role(ctx.scope, 'TestRole', {
    assumedBy: new iam.ServicePrincipal('codebuild.amazonaws.com'),
    description: `devcontainer-factory: Test of ${ctx.repository}; pulls <build>, cannot push`,
  });
  ctx.warehouse.grantPull(role, ctx.repository);
  acknowledgeNag(role, 'IAM5', NAG_REASONS.ecrAuth, 'Resource::*');
  acknowledgeArtifactAccess(role, ctx.warehouse, ['s3:GetObject*', 's3:GetBucket*', 's3:List*']);

  const projects = ctx.platforms.map((platform) => {
    const hw = platformHardware(platform);
    const project = new codebuild.PipelineProject(ctx.scope, `Test${hw.label}`, {
      description: `devcontainer-factory: tests ${ctx.repository} on native ${hw.arch} hardware`,
      role,
      environment: { buildImage: hw.buildImage, computeType: computeType(ctx.computeSize), privileged: true },
      buildSpec: imageTestSpec({ platform, registryHost: ctx.warehouse.registryHost, repository: ctx.repository, devcontainerCliVersion: ctx.devcontainerCliVersion }),
      encryptionKey: ctx.warehouse.s3Key,
      logging: { cloudWatch: { logGroup: ctx.logGroup, prefix: `test-${hw.arch}` } },
      timeout: TEST_TIMEOUT,
    });
    acknowledgeNag(project, 'CB3', 'the test runs the image with Docker and starts it as a dev container, which needs privileged mode');
    acknowledgeProjectDefaults(role, project);
    return project;
  });

  return {
    stage: {
      stageName: 'Test',
      beforeEntry: skipWhenReleased('Test', prepare.released),
      actions: ctx.platforms.map((platform, i) => {
        const hw = platformHardware(platform);
        return new actions.CodeBuildAction({
          actionName: `Test${hw.label}`,
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
