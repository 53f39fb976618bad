/**
 * The cdk-nag (AwsSolutions) acknowledgements only the image pipeline needs; the
 * shared ones (registry login, artifact access, CodeBuild project defaults) are in
 * `@devcontainer-factory/warehouse`.
 */
import { Stack, type CfnElement } from 'aws-cdk-lib';
import type * as lambda from 'aws-cdk-lib/aws-lambda';
import type { IConstruct } from 'constructs';
import { acknowledgeNag } from '@devcontainer-factory/warehouse';

/** The pipeline role invokes its own Lambda functions, any version. */
export function acknowledgeInvoke(role: IConstruct, fn: lambda.IFunction): void {
  const functionId = Stack.of(fn).getLogicalId(fn.node.defaultChild as CfnElement);
  acknowledgeNag(role, 'IAM5', "invokes this pipeline's own Lambda function (any version or alias of it)", `Resource::<${functionId}.Arn>:*`);
}
