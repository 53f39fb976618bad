import { pipelineName } from '@devcontainer-factory/core';
import { App, Stack, Validations } from 'aws-cdk-lib';
import { Annotations, Match, Template } from 'aws-cdk-lib/assertions';
import * as ecr from 'aws-cdk-lib/aws-ecr';
import * as iam from 'aws-cdk-lib/aws-iam';
import * as kms from 'aws-cdk-lib/aws-kms';
import * as s3 from 'aws-cdk-lib/aws-s3';
import * as sns from 'aws-cdk-lib/aws-sns';
import { AwsSolutionsChecks } from 'cdk-nag';
import { Warehouse } from '@devcontainer-factory/warehouse';
import { ImagePipeline, ImagePipelinePropsError, ImagePipelineStack, type ImagePipelineProps } from '../src';

const ENV = { account: '123456789012', region: 'eu-west-1' };
const PIPELINE = pipelineName('acme', 'image', 'python');

interface Stage {
  Name: string;
  BeforeEntry?: { Conditions: { Result: string; Rules: { Configuration: Record<string, string> }[] }[] };
  Actions: { Name: string; ActionTypeId: { Category: string; Provider: string }; Configuration?: Record<string, unknown> }[];
}

/** A fresh stack with one image pipeline on the `acme` warehouse, as the factory app builds it. */
function pipelineIn(props: Partial<ImagePipelineProps> = {}) {
  const stack = new Stack(new App({ context: { '@aws-cdk/core:enablePartitionLiterals': true } }), 'Stack', { env: ENV });
  const warehouse = Warehouse.fromNamespace(stack, 'Warehouse', 'acme');
  const imagePipeline = new ImagePipeline(stack, 'Python', { warehouse, imageId: 'python', ...props });
  return { stack, imagePipeline, template: () => Template.fromStack(stack) };
}

const stagesOf = (template: Template): Stage[] => Object.values(template.findResources('AWS::CodePipeline::Pipeline'))[0].Properties.Stages;

/** The logical id of the CloudFormation parameter that reads the SSM parameter `name`. */
const ssmParameter = (template: Template, name: string) =>
  Object.entries(template.toJSON().Parameters as Record<string, { Default: string }>).find(([, p]) => p.Default === name)![0];

describe('an ImagePipeline without approval', () => {
  test('has no Approval stage: Release follows Test', () => {
    const { template } = pipelineIn();
    expect(stagesOf(template()).map((s) => s.Name)).toEqual(['Source', 'Prepare', 'Build', 'Manifest', 'Test', 'Release']);
    expect(JSON.stringify(template().toJSON())).not.toContain('Approval');
  });

  test('grantApprove throws: there is nothing to approve', () => {
    const { stack, imagePipeline } = pipelineIn();
    expect(() => imagePipeline.grantApprove(new iam.Role(stack, 'Approver', { assumedBy: new iam.AccountRootPrincipal() }))).toThrow(
      /grantApprove: the pipeline has no approval to approve: pass approval: true/,
    );
  });

  test('approvalTopic without approval is refused', () => {
    const stack = new Stack();
    expect(
      () =>
        new ImagePipeline(stack, 'P', { warehouse: Warehouse.fromNamespace(stack, 'W', 'acme'), imageId: 'python', approvalTopic: new sns.Topic(stack, 'T') }),
    ).toThrow(ImagePipelinePropsError);
    expect(() => pipelineIn({ approvalTopic: sns.Topic.fromTopicArn(new Stack(), 'T', 'arn:aws:sns:eu-west-1:123456789012:t') })).toThrow(
      /approvalTopic is given without approval: true/,
    );
  });
});

describe('an ImagePipeline with approval', () => {
  let ctx: ReturnType<typeof pipelineIn>;
  let template: Template;
  beforeAll(() => {
    ctx = pipelineIn({ approval: true });
    template = ctx.template();
  });

  test('waits for a manual approval between Test and Release', () => {
    const stages = stagesOf(template);
    expect(stages.map((s) => s.Name)).toEqual(['Source', 'Prepare', 'Build', 'Manifest', 'Test', 'Approval', 'Release']);
    const approval = stages.find((s) => s.Name === 'Approval')!;
    expect(approval.Actions).toHaveLength(1);
    expect(approval.Actions[0]).toMatchObject({ Name: 'Approve', ActionTypeId: { Category: 'Approval', Provider: 'Manual' } });
    expect(approval.Actions[0].Configuration?.CustomData).toMatch(
      /^Release acme\/images\/python: the build passed Test on linux\/amd64, linux\/arm64; approving promotes it/,
    );
  });

  test("tells the warehouse's failure topic that an approval waits, and the pipeline role may publish there", () => {
    const topic = { Ref: ssmParameter(template, '/acme/factory/failure-topic-arn') };
    const approval = stagesOf(template).find((s) => s.Name === 'Approval')!;
    expect(approval.Actions[0].Configuration?.NotificationArn).toEqual(topic);
    template.hasResourceProperties('AWS::IAM::Policy', {
      PolicyDocument: { Statement: Match.arrayWith([Match.objectLike({ Action: 'sns:Publish', Resource: topic })]) },
      Roles: [{ Ref: Match.stringLikeRegexp('PythonPipelineRole') }],
    });
  });

  test('is skipped, like Build, Manifest and Test, when Prepare finds the build released: an unchanged upload or an idle refresh waits for nobody', () => {
    const approval = stagesOf(template).find((s) => s.Name === 'Approval')!;
    expect(approval.BeforeEntry).toEqual({
      Conditions: [
        {
          Result: 'SKIP',
          Rules: [
            expect.objectContaining({ Name: 'ApprovalUnlessReleased', Configuration: { Variable: '#{Prepare.Released}', Operator: 'EQ', Value: 'false' } }),
          ],
        },
      ],
    });
  });

  test('grantApprove gives exactly PutApprovalResult on the approval action and GetPipelineState on the pipeline', () => {
    // GIVEN an approver role
    const { stack, imagePipeline } = pipelineIn({ approval: true });
    const approver = new iam.Role(stack, 'Approver', { assumedBy: new iam.AccountRootPrincipal() });
    // WHEN it is granted approval
    const grant = imagePipeline.grantApprove(approver);
    // THEN these two statements, and no other
    expect(grant.success).toBe(true);
    const statements = Object.values(Template.fromStack(stack).findResources('AWS::IAM::Policy'))
      .filter((p) => JSON.stringify(p.Properties.Roles).includes('Approver'))
      .flatMap((p) => p.Properties.PolicyDocument.Statement);
    expect(statements).toEqual([
      { Effect: 'Allow', Action: 'codepipeline:PutApprovalResult', Resource: `arn:aws:codepipeline:eu-west-1:123456789012:${PIPELINE}/Approval/Approve` },
      { Effect: 'Allow', Action: 'codepipeline:GetPipelineState', Resource: `arn:aws:codepipeline:eu-west-1:123456789012:${PIPELINE}` },
    ]);
  });

  test('a topic passed as approvalTopic gets the notification instead of the failure topic', () => {
    const stack = new Stack(new App(), 'S', { env: ENV });
    const topic = new sns.Topic(stack, 'Approvals', { enforceSSL: true });
    new ImagePipeline(stack, 'Python', {
      warehouse: Warehouse.fromNamespace(stack, 'Warehouse', 'acme'),
      imageId: 'python',
      approval: true,
      approvalTopic: topic,
    });
    const approval = stagesOf(Template.fromStack(stack)).find((s) => s.Name === 'Approval')!;
    expect(approval.Actions[0].Configuration?.NotificationArn).toEqual({ Ref: stack.getLogicalId(topic.node.defaultChild as sns.CfnTopic) });
  });

  test('without any topic (own resources, no failureTopic) the approval is still there, with a warning that nobody is told', () => {
    const stack = new Stack(new App(), 'Own', { env: ENV });
    const encryptionKey = new kms.Key(stack, 'Key', { enableKeyRotation: true });
    const sourceBucket = new s3.Bucket(stack, 'Source', { encryptionKey, versioned: true, enforceSSL: true });
    const repository = new ecr.Repository(stack, 'Repository', { repositoryName: 'devcontainers/images/python' });
    new ImagePipeline(stack, 'Python', { sourceBucket, repository, imageId: 'python', approval: true });
    const approval = stagesOf(Template.fromStack(stack)).find((s) => s.Name === 'Approval')!;
    expect(approval.Actions[0].Configuration).not.toHaveProperty('NotificationArn');
    Annotations.fromStack(stack).hasWarning('/Own/Python', Match.stringLikeRegexp('approval is on, but no topic is told that an approval waits'));
  });
});

test('an ImagePipelineStack with approval and an approver is clean under cdk-nag', () => {
  const app = new App({ context: { '@aws-cdk/core:enablePartitionLiterals': true, '@aws-cdk/aws-iam:minimizePolicies': true } });
  const stack = new ImagePipelineStack(app, 'acme-image-python', { env: ENV, namespace: 'acme', imageId: 'python', approval: true });
  stack.imagePipeline.grantApprove(new iam.Role(stack, 'Approver', { assumedBy: new iam.AccountRootPrincipal() }));
  Validations.of(app).addPlugins(new AwsSolutionsChecks(app));
  expect(() => app.synth()).not.toThrow();
});
