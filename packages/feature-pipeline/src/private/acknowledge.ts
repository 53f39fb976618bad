/**
 * Every cdk-nag (AwsSolutions) acknowledgement of the feature pipeline, each with
 * its reason. IAM5 acknowledgements name the exact finding (one action or
 * resource), so that any other wildcard still fails synthesis.
 */
import { ArnFormat, Stack } from 'aws-cdk-lib';
import type * as codebuild from 'aws-cdk-lib/aws-codebuild';
import type { IConstruct } from 'constructs';
import type { IWarehouse } from '@devcontainer-factory/warehouse';

import { acknowledgeNag, nagText } from '@devcontainer-factory/warehouse';

// Shared with the warehouse, so every construct writes findings the same way.
export { acknowledgeNag, nagText };

/** Reasons shared by several roles, written once. */
export const NAG_REASONS = {
  ecrAuth: 'ecr:GetAuthorizationToken is registry-wide: ECR allows no resource narrower than *',
  artifactObjects: "CodePipeline's artifact bucket of the namespace: object keys are generated per execution, so the grant covers the bucket's objects",
  s3GrantActions: "CDK's standard S3 read (and, for the pipeline, write) grant on the artifact bucket, the one source object or the feature tool asset",
  kmsGrantActions: "CDK's standard KMS grant, on the warehouse's S3 key only (artifacts are encrypted with it)",
  toolAsset: "the feature tool's own object in the CDK asset bucket (CDK's asset grant covers the key's prefix)",
} as const;

/** The wildcard findings of CDK's grants on the artifact bucket and its KMS key. */
export function acknowledgeArtifactAccess(role: IConstruct, warehouse: IWarehouse, actions: readonly string[]): void {
  acknowledgeNag(role, 'IAM5', NAG_REASONS.artifactObjects, `Resource::${nagText(role, warehouse.artifactBucket.arnForObjects('*'))}`);
  for (const action of actions) acknowledgeNag(role, 'IAM5', NAG_REASONS.s3GrantActions, `Action::${action}`);
  for (const action of ['kms:ReEncrypt*', 'kms:GenerateDataKey*']) acknowledgeNag(role, 'IAM5', NAG_REASONS.kmsGrantActions, `Action::${action}`);
}

/** The wildcard findings CodeBuild projects always carry: their default log group's streams and their report groups. */
export function acknowledgeProjectDefaults(role: IConstruct, project: codebuild.IProject): void {
  const stack = Stack.of(project);
  const logStreams = stack.formatArn({ service: 'logs', resource: 'log-group', resourceName: `/aws/codebuild/${project.projectName}:*`, arnFormat: ArnFormat.COLON_RESOURCE_NAME });
  const reportGroups = stack.formatArn({ service: 'codebuild', resource: 'report-group', resourceName: `${project.projectName}-*`, arnFormat: ArnFormat.SLASH_RESOURCE_NAME });
  acknowledgeNag(
    role,
    'IAM5',
    "the streams of this project's default CodeBuild log group (CDK always grants it; the project writes to the pipeline's log group)",
    `Resource::${nagText(role, logStreams)}`,
  );
  acknowledgeNag(role, 'IAM5', "this project's own test report groups (CDK grants them to every project)", `Resource::${nagText(role, reportGroups)}`);
}

/** Acknowledges the wildcard of a pull grant on repositories named with `*`. */
export function acknowledgeRepositoryPattern(role: IConstruct, warehouse: IWarehouse, name: string, reason: string): void {
  acknowledgeNag(role, 'IAM5', reason, `Resource::${nagText(role, warehouse.repositoryArn(name))}`);
}
