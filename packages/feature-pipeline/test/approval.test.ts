import { pipelineName } from '@devcontainer-factory/core';
import { App, Stack, Validations } from 'aws-cdk-lib';
import { Match, Template } from 'aws-cdk-lib/assertions';
import * as iam from 'aws-cdk-lib/aws-iam';
import * as sns from 'aws-cdk-lib/aws-sns';
import { AwsSolutionsChecks } from 'cdk-nag';
import { Warehouse } from '@devcontainer-factory/warehouse';
import { FeaturePipeline, FeaturePipelinePropsError, FeaturePipelineStack, type FeaturePipelineProps } from '../src';

const ENV = { account: '123456789012', region: 'eu-west-1' };

function synth(props: Partial<FeaturePipelineProps> = {}) {
  const stack = new Stack(new App({ context: { '@aws-cdk/core:enablePartitionLiterals': true } }), 'Stack', { env: ENV });
  const featurePipeline = new FeaturePipeline(stack, 'FeaturePipeline', {
    warehouse: Warehouse.fromNamespace(stack, 'Warehouse', 'acme'),
    featureId: 'hello',
    ...props,
  });
  return { stack, featurePipeline };
}

type Stage = {
  Name: string;
  BeforeEntry?: unknown;
  Actions: { Name: string; ActionTypeId: { Category: string; Provider: string }; Configuration?: Record<string, unknown> }[];
};
const stagesOf = (stack: Stack): Stage[] => Object.values(Template.fromStack(stack).findResources('AWS::CodePipeline::Pipeline'))[0].Properties.Stages;

test('without approval, Publish follows Test and grantApprove throws', () => {
  const { stack, featurePipeline } = synth();
  expect(stagesOf(stack).map((s) => s.Name)).toEqual(['Source', 'Test', 'Publish']);
  expect(() => featurePipeline.grantApprove(new iam.Role(stack, 'Approver', { assumedBy: new iam.AccountRootPrincipal() }))).toThrow(
    /grantApprove: the pipeline has no approval to approve: pass approval: true/,
  );
});

test('approvalTopic without approval is refused', () => {
  const stack = new Stack();
  expect(
    () =>
      new FeaturePipeline(stack, 'F', { warehouse: Warehouse.fromNamespace(stack, 'W', 'acme'), featureId: 'hello', approvalTopic: new sns.Topic(stack, 'T') }),
  ).toThrow(FeaturePipelinePropsError);
});

test('with approval, every version waits for a manual approval between Test and Publish, announced on the failure topic', () => {
  // GIVEN / WHEN
  const { stack } = synth({ approval: true });
  const template = Template.fromStack(stack);
  // THEN
  const stages = stagesOf(stack);
  expect(stages.map((s) => s.Name)).toEqual(['Source', 'Test', 'Approval', 'Publish']);
  const approval = stages[2];
  // A feature has no "already released" to skip on: each upload is a version someone wants published.
  expect(approval.BeforeEntry).toBeUndefined();
  expect(approval.Actions).toEqual([
    expect.objectContaining({
      Name: 'Approve',
      ActionTypeId: expect.objectContaining({ Category: 'Approval', Provider: 'Manual' }),
      Configuration: {
        NotificationArn: { Ref: expect.stringMatching(/^SsmParameterValue.*failuretopicarn/i) },
        CustomData: expect.stringMatching(/^Publish the feature hello to acme\/features\/hello/),
      },
    }),
  ]);
  template.hasResourceProperties('AWS::IAM::Policy', {
    PolicyDocument: { Statement: Match.arrayWith([Match.objectLike({ Action: 'sns:Publish' })]) },
    Roles: [{ Ref: Match.stringLikeRegexp('FeaturePipelinePipelineRole') }],
  });
});

test('grantApprove gives exactly PutApprovalResult on the approval action and GetPipelineState on the pipeline', () => {
  const { stack, featurePipeline } = synth({ approval: true });
  const approver = iam.Role.fromRoleArn(stack, 'Approver', 'arn:aws:iam::123456789012:role/release-managers');
  featurePipeline.grantApprove(approver);
  const statements = Object.values(Template.fromStack(stack).findResources('AWS::IAM::Policy'))
    .filter((p) => JSON.stringify(p.Properties.Roles).includes('release-managers'))
    .flatMap((p) => p.Properties.PolicyDocument.Statement);
  const pipeline = `arn:aws:codepipeline:eu-west-1:123456789012:${pipelineName('acme', 'feature', 'hello')}`;
  expect(statements).toEqual([
    { Effect: 'Allow', Action: 'codepipeline:PutApprovalResult', Resource: `${pipeline}/Approval/Approve` },
    { Effect: 'Allow', Action: 'codepipeline:GetPipelineState', Resource: pipeline },
  ]);
});

test('a FeaturePipelineStack with approval is clean under cdk-nag', () => {
  const app = new App({ context: { '@aws-cdk/core:enablePartitionLiterals': true, '@aws-cdk/aws-iam:minimizePolicies': true } });
  new FeaturePipelineStack(app, 'acme-feature-hello', { env: ENV, namespace: 'acme', featureId: 'hello', approval: true });
  Validations.of(app).addPlugins(new AwsSolutionsChecks(app));
  expect(() => app.synth()).not.toThrow();
});
