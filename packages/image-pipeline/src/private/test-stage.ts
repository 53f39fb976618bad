import { Duration } from 'aws-cdk-lib';
import type * as codebuild from 'aws-cdk-lib/aws-codebuild';
import type * as codepipeline from 'aws-cdk-lib/aws-codepipeline';
import * as iam from 'aws-cdk-lib/aws-iam';
import { codeBuildInAccount } from '@devcontainer-factory/pipeline-parts';
import { imageTestSpec } from './buildspecs';
import { platformStage } from './platform-stage';
import type { PrepareOutputs, StageContext } from './stage-context';

/** Longest Test run before CodeBuild stops it. */
export const TEST_TIMEOUT = Duration.minutes(30);

/**
 * Test: one privileged CodeBuild project per platform on native hardware, run in
 * parallel, that pulls the index `<build>` from the staging repository and runs the
 * image and its tests. Their shared role can pull from staging and nothing else:
 * Test never pushes.
 */
export function testStage(
  ctx: StageContext,
  prepare: PrepareOutputs,
): { stage: codepipeline.StageProps; role: iam.Role; projects: codebuild.PipelineProject[] } {
  const role = new iam.Role(ctx.scope, 'TestRole', {
    assumedBy: codeBuildInAccount(ctx.scope),
    description: `devcontainer-factory: Test of ${ctx.repository}; pulls <build> from ${ctx.stagingRepository}, cannot push`,
  });
  ctx.warehouse.grantPull(role, ctx.stagingRepository);

  const { stage, projects } = platformStage(ctx, prepare, {
    stageName: 'Test',
    role,
    description: (_platform, hw) => `devcontainer-factory: tests ${ctx.repository} on native ${hw.arch} hardware`,
    buildSpec: (platform) =>
      imageTestSpec({
        platform,
        registryHost: ctx.warehouse.registryHost,
        repository: ctx.stagingRepository,
        namespace: ctx.warehouse.namespace,
        devcontainerCliVersion: ctx.devcontainerCliVersion,
        devcontainerCliIntegrity: ctx.devcontainerCliIntegrity,
      }),
    timeout: TEST_TIMEOUT,
    privilegedReason: 'the test runs the image with Docker and starts it as a dev container, which needs privileged mode',
  });
  return { stage, role, projects };
}
