import type * as codebuild from 'aws-cdk-lib/aws-codebuild';
import type * as codepipeline from 'aws-cdk-lib/aws-codepipeline';
import * as actions from 'aws-cdk-lib/aws-codepipeline-actions';
import * as iam from 'aws-cdk-lib/aws-iam';
import { acknowledgeRegistryLogin, acknowledgeResourceWildcard } from '@devcontainer-factory/warehouse';
import { featurePublishSpec } from './buildspecs';
import { stageProject } from './stage-project';
import type { StageContext } from './stage-context';

/**
 * Publish: a CodeBuild project (no Docker) that packages the feature, runs the
 * version guard and `devcontainer features publish`, and rewrites the collection
 * metadata. Its role pushes to exactly two repositories, `<ns>/features/<id>` and
 * `<ns>/features` (both created on first push from the warehouse's template), and
 * reads the namespace's other features for the collection.
 */
export function publishStage(ctx: StageContext): { stage: codepipeline.StageProps; role: iam.Role; project: codebuild.PipelineProject } {
  const role = new iam.Role(ctx.scope, 'PublishRole', {
    assumedBy: new iam.ServicePrincipal('codebuild.amazonaws.com'),
    description: `devcontainer-factory: Publish of ${ctx.repository}; pushes it and ${ctx.collectionRepository} only`,
  });
  ctx.warehouse.grantPush(role, ctx.repository, ctx.collectionRepository);
  const otherFeatures = `${ctx.collectionRepository}/*`;
  ctx.warehouse.grantPull(role, otherFeatures);
  acknowledgeRegistryLogin(role);
  acknowledgeResourceWildcard(
    role,
    ctx.warehouse.repositoryArn(otherFeatures),
    "pull only: the collection metadata lists every feature of the namespace with its latest version's metadata, read from each feature's repository",
  );
  const project = stageProject(ctx, {
    id: 'Publish',
    description: `devcontainer-factory: publishes the feature ${ctx.featureId} to ${ctx.repository} (devcontainer features publish)`,
    role,
    buildSpec: featurePublishSpec,
    privileged: false,
  });
  return {
    stage: { stageName: 'Publish', actions: [new actions.CodeBuildAction({ actionName: 'Publish', project, input: ctx.source })] },
    role,
    project,
  };
}
