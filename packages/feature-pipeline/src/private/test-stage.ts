import type * as codebuild from 'aws-cdk-lib/aws-codebuild';
import type * as codepipeline from 'aws-cdk-lib/aws-codepipeline';
import * as actions from 'aws-cdk-lib/aws-codepipeline-actions';
import * as iam from 'aws-cdk-lib/aws-iam';
import { codeBuildInAccount } from '@devcontainer-factory/pipeline-parts';
import { acknowledgeNag, acknowledgeRegistryLogin, acknowledgeResourceWildcard } from '@devcontainer-factory/warehouse';
import { featureTestSpec } from './buildspecs';
import { stageProject } from './stage-project';
import type { StageContext } from './stage-context';

/**
 * Test: a privileged CodeBuild project that validates the upload, lays it out as
 * a collection and runs `devcontainer features test` when it has tests. Its role
 * can pull from the namespace's repositories (scenarios may use factory images,
 * and features may depend on other factory features) and cannot push anywhere.
 */
export function testStage(ctx: StageContext): { stage: codepipeline.StageProps; role: iam.Role; project: codebuild.PipelineProject } {
  const role = new iam.Role(ctx.scope, 'TestRole', {
    assumedBy: codeBuildInAccount(ctx.scope),
    description: `devcontainer-factory: Test of ${ctx.repository}; pulls from ${ctx.warehouse.namespace}/*, cannot push`,
  });
  const pullable = [`${ctx.warehouse.namespace}/images/*`, `${ctx.warehouse.namespace}/features/*`];
  ctx.warehouse.grantPull(role, ...pullable);
  acknowledgeRegistryLogin(role);
  for (const name of pullable) {
    acknowledgeResourceWildcard(
      role,
      ctx.warehouse.repositoryArn(name),
      'pull only: test scenarios may start from any factory image and a feature may depend on any factory feature of the namespace',
    );
  }
  const project = stageProject(ctx, {
    id: 'Test',
    description: `devcontainer-factory: validates and tests the feature ${ctx.featureId} (devcontainer features test)`,
    role,
    buildSpec: featureTestSpec,
    privileged: true,
  });
  acknowledgeNag(
    project,
    'CB3',
    "devcontainer features test builds and runs test containers with Docker, which needs privileged mode; the project's role can only pull",
  );
  return {
    stage: { stageName: 'Test', actions: [new actions.CodeBuildAction({ actionName: 'Test', project, input: ctx.source })] },
    role,
    project,
  };
}
