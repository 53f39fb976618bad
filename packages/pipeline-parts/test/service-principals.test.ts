import { pipelineName } from '@devcontainer-factory/core';
import { Stack } from 'aws-cdk-lib';
import { Template } from 'aws-cdk-lib/assertions';
import * as iam from 'aws-cdk-lib/aws-iam';
import { Warehouse } from '@devcontainer-factory/warehouse';
import { codeBuildInAccount, codePipelineFor, eventBridgeInAccount, lambdaInAccount } from '../src';
import { withUploadPipeline } from './support/smallest-upload-pipeline';

/** A CloudFormation value as text: `Fn::Join` joined, `Ref` written as `<Id>`. */
const text = (v: unknown): string =>
  typeof v === 'string'
    ? v
    : (v as { Ref?: string }).Ref !== undefined
      ? `<${(v as { Ref: string }).Ref}>`
      : (v as { 'Fn::Join': [string, unknown[]] })['Fn::Join'][1].map(text).join('');

/** The trust statement of a role assumed by `principal`, resolved in a concrete environment. */
function trustOf(principal: (stack: Stack) => iam.IPrincipal) {
  const stack = new Stack(undefined, 'S', { env: { account: '123456789012', region: 'eu-west-1' } });
  new iam.Role(stack, 'Role', { assumedBy: principal(stack) });
  const [role] = Object.values(Template.fromStack(stack).findResources('AWS::IAM::Role'));
  return role.Properties.AssumeRolePolicyDocument.Statement[0];
}

describe('service principals in the account', () => {
  test('Lambda: aws:SourceAccount only (Lambda is not documented to send aws:SourceArn for an execution role)', () => {
    expect(trustOf(lambdaInAccount)).toMatchObject({
      Principal: { Service: 'lambda.amazonaws.com' },
      Condition: { StringEquals: { 'aws:SourceAccount': '123456789012' } },
    });
    expect(trustOf(lambdaInAccount).Condition.ArnLike).toBeUndefined();
  });

  test.each([
    ['CodeBuild', codeBuildInAccount, 'codebuild.amazonaws.com', 'arn:aws:codebuild:eu-west-1:123456789012:project/*'],
    ['EventBridge', eventBridgeInAccount, 'events.amazonaws.com', 'arn:aws:events:eu-west-1:123456789012:rule/*'],
    [
      'CodePipeline',
      (s: Stack) => codePipelineFor(s, 'acme-image-python'),
      'codepipeline.amazonaws.com',
      'arn:aws:codepipeline:eu-west-1:123456789012:acme-image-python',
    ],
  ])('%s: aws:SourceAccount and aws:SourceArn of the account and region', (_name, principal, service, sourceArn) => {
    const statement = trustOf(principal);
    expect(statement.Principal).toEqual({ Service: service });
    expect(Object.keys(statement.Condition).sort()).toEqual(['ArnLike', 'StringEquals']);
    expect(statement.Condition.StringEquals).toEqual({ 'aws:SourceAccount': '123456789012' });
    expect(text(statement.Condition.ArnLike['aws:SourceArn'])).toBe(sourceArn.replace(/^arn:aws:/, 'arn:<AWS::Partition>:'));
  });
});

describe('addUploadPipeline roles', () => {
  test('the pipeline role trusts only CodePipeline running this pipeline, the start role only EventBridge for a rule, and the source rule uses the start role', () => {
    const stack = new Stack();
    const warehouse = Warehouse.fromNamespace(stack, 'Warehouse', 'acme');
    const { pipeline, sourceRule, eventRole } = withUploadPipeline(stack, warehouse);
    const template = Template.fromStack(stack);
    const roles = template.findResources('AWS::IAM::Role');
    const id = (c: iam.IRole) => stack.getLogicalId(c.node.defaultChild as iam.CfnRole);
    const condition = (role: iam.IRole) => roles[id(role)].Properties.AssumeRolePolicyDocument.Statement[0].Condition;
    expect(Object.keys(roles).sort()).toEqual([id(pipeline.role), id(eventRole)].sort());
    expect(JSON.stringify(condition(pipeline.role).ArnLike['aws:SourceArn'])).toContain(`:${pipelineName('acme', 'feature', 'hello')}`);
    expect(JSON.stringify(condition(eventRole).ArnLike['aws:SourceArn'])).toContain(':rule/*');
    expect(condition(pipeline.role).StringEquals['aws:SourceAccount']).toEqual({ Ref: 'AWS::AccountId' });
    expect(template.findResources('AWS::Events::Rule')[stack.getLogicalId(sourceRule.node.defaultChild as never)].Properties.Targets[0].RoleArn).toEqual({
      'Fn::GetAtt': [id(eventRole), 'Arn'],
    });
  });
});
