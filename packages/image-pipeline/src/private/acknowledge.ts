/**
 * Every cdk-nag (AwsSolutions) acknowledgement of the image pipeline, each with its
 * reason. IAM5 acknowledgements name the exact finding (one action or resource), so
 * that any other wildcard still fails synthesis.
 */
import { ArnFormat, Stack, type CfnElement } from 'aws-cdk-lib';
import type { IConstruct } from 'constructs';
import type * as codebuild from 'aws-cdk-lib/aws-codebuild';
import type * as lambda from 'aws-cdk-lib/aws-lambda';
import type { IWarehouse } from '@devcontainer-factory/warehouse';

import { acknowledgeNag, nagText } from '@devcontainer-factory/warehouse';

// Shared with the warehouse, so every construct writes findings the same way.
export { acknowledgeNag, nagText };

function logicalId(construct: IConstruct): string {
  return Stack.of(construct).getLogicalId(construct.node.defaultChild as CfnElement);
}

/** Reasons shared by several stages, written once. */
export const NAG_REASONS = {
  ecrAuth: 'ecr:GetAuthorizationToken is registry-wide: ECR allows no resource narrower than *',
  jobResult: 'codepipeline:PutJobSuccessResult and PutJobFailureResult support no resource-level permissions (the job id is the only scope)',
  artifactObjects: "CodePipeline's artifact bucket of the namespace: object keys are generated per execution, so the grant covers the bucket's objects",
  s3GrantActions: "CDK's standard S3 read (and, for the pipeline, write) grant on the artifact bucket and the one source object",
  kmsGrantActions: "CDK's standard KMS grant, on the warehouse's S3 key only (artifacts are encrypted with it)",
} as const;

/** The wildcard findings of CDK's grants on the artifact bucket and its KMS key. */
export function acknowledgeArtifactAccess(role: IConstruct, warehouse: IWarehouse, actions: readonly string[]): void {
  acknowledgeNag(role, 'IAM5', NAG_REASONS.artifactObjects, `Resource::${nagText(role, warehouse.artifactBucket.arnForObjects('*'))}`);
  for (const action of actions) acknowledgeNag(role, 'IAM5', NAG_REASONS.s3GrantActions, `Action::${action}`);
  for (const action of ['kms:ReEncrypt*', 'kms:GenerateDataKey*']) acknowledgeNag(role, 'IAM5', NAG_REASONS.kmsGrantActions, `Action::${action}`);
}

/** The wildcard findings CodeBuild projects always carry: their default log group's streams and their report groups. */
export function acknowledgeProjectDefaults(role: IConstruct, project: codebuild.IProject): void {
  // The same ARNs CDK's Project grants, so the text matches whatever the stack's environment is.
  const stack = Stack.of(project);
  const logGroup = stack.formatArn({ service: 'logs', resource: 'log-group', arnFormat: ArnFormat.COLON_RESOURCE_NAME, resourceName: `/aws/codebuild/${project.projectName}` });
  const reportGroups = stack.formatArn({ service: 'codebuild', resource: 'report-group', resourceName: `${project.projectName}-*` });
  acknowledgeNag(
    role,
    'IAM5',
    "the streams of this project's default CodeBuild log group (CDK always grants it; the project writes to the pipeline's log group)",
    `Resource::${nagText(role, `${logGroup}:*`)}`,
  );
  acknowledgeNag(role, 'IAM5', "this project's own test report groups (CDK grants them to every project)", `Resource::${nagText(role, reportGroups)}`);
}

/** The pipeline role invokes its own Lambda functions, any version. */
export function acknowledgeInvoke(role: IConstruct, fn: lambda.IFunction): void {
  acknowledgeNag(role, 'IAM5', "invokes this pipeline's own Lambda function (any version or alias of it)", `Resource::<${logicalId(fn)}.Arn>:*`);
}
