import { ArnFormat, Stack } from 'aws-cdk-lib';
import * as iam from 'aws-cdk-lib/aws-iam';
import type { IConstruct } from 'constructs';

/**
 * The principal of an AWS service acting for a resource of this stack's account, for
 * the trust policy of a role only that service assumes (a confused-deputy guard):
 * `aws:SourceAccount` must be the stack's account and, when `sourceArn` is given,
 * `aws:SourceArn` must match it (`ArnLike`, so a pattern can stand for resources whose
 * names CloudFormation generates: the role cannot name them without depending on them,
 * while they depend on the role).
 */
export function serviceInAccount(scope: IConstruct, service: string, sourceArn?: string): iam.ServicePrincipal {
  return new iam.ServicePrincipal(service, {
    conditions: {
      StringEquals: { 'aws:SourceAccount': Stack.of(scope).account },
      ...(sourceArn !== undefined && { ArnLike: { 'aws:SourceArn': sourceArn } }),
    },
  });
}

/**
 * Lambda running a function of this account. Lambda is not documented to send
 * `aws:SourceArn` when it assumes an execution role, and a condition on a key it leaves
 * out would stop every invocation: the account is the whole guard here.
 */
export function lambdaInAccount(scope: IConstruct): iam.ServicePrincipal {
  return serviceInAccount(scope, 'lambda.amazonaws.com');
}

/** CodeBuild running a build of a project of this account and region (project names are generated). */
export function codeBuildInAccount(scope: IConstruct): iam.ServicePrincipal {
  return serviceInAccount(scope, 'codebuild.amazonaws.com', Stack.of(scope).formatArn({ service: 'codebuild', resource: 'project', resourceName: '*' }));
}

/** EventBridge delivering an event matched by a rule of this account and region (rule names are generated). */
export function eventBridgeInAccount(scope: IConstruct): iam.ServicePrincipal {
  return serviceInAccount(scope, 'events.amazonaws.com', Stack.of(scope).formatArn({ service: 'events', resource: 'rule', resourceName: '*' }));
}

/** CodePipeline running the pipeline `pipelineName` of this account and region (the name is known at synthesis). */
export function codePipelineFor(scope: IConstruct, pipelineName: string): iam.ServicePrincipal {
  return serviceInAccount(
    scope,
    'codepipeline.amazonaws.com',
    Stack.of(scope).formatArn({ service: 'codepipeline', resource: pipelineName, arnFormat: ArnFormat.NO_RESOURCE_NAME }),
  );
}
