import { Validations } from 'aws-cdk-lib';
import type * as codebuild from 'aws-cdk-lib/aws-codebuild';
import type * as codepipeline from 'aws-cdk-lib/aws-codepipeline';
import * as actions from 'aws-cdk-lib/aws-codepipeline-actions';
import * as iam from 'aws-cdk-lib/aws-iam';
import { codeBuildInAccount } from '@devcontainer-factory/pipeline-parts';
import { acknowledgeRegistryLogin, acknowledgeResourceWildcard, releaseWriterRolePath } from '@devcontainer-factory/warehouse';
import { featurePublishSpec } from './buildspecs';
import { stageProject } from './stage-project';
import type { StageContext } from './stage-context';

/**
 * Publish: a CodeBuild project (no Docker) that packages the feature, runs the
 * version guard and `devcontainer features publish`, and rewrites the collection
 * metadata. Its role pushes to exactly two repositories, `<ns>/features/<id>` and
 * `<ns>/features` (both created on first push from the warehouse's template), and
 * reads the namespace's other features for the collection. It is under the namespace's
 * feature-publish path (`releaseWriterRolePath`), the only roles the warehouse's feature
 * repositories take a push from.
 */
export function publishStage(ctx: StageContext): { stage: codepipeline.StageProps; role: iam.Role; project: codebuild.PipelineProject } {
  const role = new iam.Role(ctx.scope, 'PublishRole', {
    assumedBy: codeBuildInAccount(ctx.scope),
    description: `devcontainer-factory: Publish of ${ctx.repository}; pushes it and ${ctx.collectionRepository} only`,
    // The feature repositories of the warehouse take a push only from roles under this path.
    path: releaseWriterRolePath(ctx.warehouse.namespace, 'feature'),
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
  // The project's ServiceRole is the role's Fn::GetAtt Arn, which carries the path; aws-cdk-lib's
  // template check reads the role's ARN token as a Ref (a name, which would lose the path).
  Validations.of(project).acknowledge({
    id: 'CloudFormation-Validate::E3050',
    reason: "the ServiceRole is the Publish role's ARN (Fn::GetAtt Arn, path included), not a Ref to its name",
  });
  return {
    stage: { stageName: 'Publish', actions: [new actions.CodeBuildAction({ actionName: 'Publish', project, input: ctx.source })] },
    role,
    project,
  };
}
