import { pipelineName } from '@devcontainer-factory/core';
/**
 * Who may act as the feature pipeline's roles, and how its projects behave when a build
 * would run twice: trust policies with the source account and ARN, one build per project
 * at a time, a bounded queue, and the writer path of the Publish role.
 */
import { App, Stack, type CfnElement } from 'aws-cdk-lib';
import { Template } from 'aws-cdk-lib/assertions';
import type { IConstruct } from 'constructs';
import { Warehouse, releaseWriterRolePath } from '@devcontainer-factory/warehouse';
import { FeaturePipeline } from '../src';

const logicalId = (c: IConstruct) => Stack.of(c).getLogicalId(c.node.defaultChild as CfnElement);

function synth() {
  const stack = new Stack();
  const warehouse = Warehouse.fromNamespace(stack, 'Warehouse', 'acme');
  const featurePipeline = new FeaturePipeline(stack, 'FeaturePipeline', { warehouse, featureId: 'hello' });
  return { featurePipeline, template: Template.fromStack(stack) };
}

/** A CloudFormation value as text, `Ref` written as `<Id>`. */
const text = (v: unknown): string =>
  typeof v === 'string'
    ? v
    : (v as { Ref?: string }).Ref !== undefined
      ? `<${(v as { Ref: string }).Ref}>`
      : (v as { 'Fn::Join': [string, unknown[]] })['Fn::Join'][1].map(text).join('');

describe('FeaturePipeline roles', () => {
  test('CodeBuild may assume Test and Publish only for a project of this account and region, CodePipeline the pipeline role only for this pipeline, EventBridge the start role only for a rule', () => {
    const { template } = synth();
    const trust = Object.values(template.findResources('AWS::IAM::Role')).flatMap(
      (r) => r.Properties.AssumeRolePolicyDocument.Statement as { Principal: { Service: string }; Condition: Record<string, Record<string, unknown>> }[],
    );
    const bySource = trust
      .map((st) => [st.Principal.Service, text(st.Condition.StringEquals['aws:SourceAccount']), text(st.Condition.ArnLike['aws:SourceArn'])])
      .sort();
    expect(bySource).toEqual([
      ['codebuild.amazonaws.com', '<AWS::AccountId>', 'arn:<AWS::Partition>:codebuild:<AWS::Region>:<AWS::AccountId>:project/*'],
      ['codebuild.amazonaws.com', '<AWS::AccountId>', 'arn:<AWS::Partition>:codebuild:<AWS::Region>:<AWS::AccountId>:project/*'],
      [
        'codepipeline.amazonaws.com',
        '<AWS::AccountId>',
        `arn:<AWS::Partition>:codepipeline:<AWS::Region>:<AWS::AccountId>:${pipelineName('acme', 'feature', 'hello')}`,
      ],
      ['events.amazonaws.com', '<AWS::AccountId>', 'arn:<AWS::Partition>:events:<AWS::Region>:<AWS::AccountId>:rule/*'],
    ]);
  });

  test('the Publish role, and only it, is under the namespace’s feature-publish path, the only roles the feature repositories take a push from', () => {
    const { template, featurePipeline } = synth();
    const roles = template.findResources('AWS::IAM::Role');
    const publish = logicalId(featurePipeline.publishRole);
    expect(roles[publish].Properties.Path).toBe(releaseWriterRolePath('acme', 'feature'));
    for (const [id, r] of Object.entries(roles)) if (id !== publish) expect(r.Properties.Path).toBeUndefined();
  });

  test('Test and Publish run one build per project at a time, and give up after an hour in the queue', () => {
    const projects = Object.values(synth().template.findResources('AWS::CodeBuild::Project')).map((p) => p.Properties);
    expect(projects).toHaveLength(2);
    for (const p of projects) expect(p).toMatchObject({ ConcurrentBuildLimit: 1, QueuedTimeoutInMinutes: 60 });
  });

  test("synthesizes clean under aws-cdk-lib's template checks, the Publish role's path included", () => {
    const app = new App({ context: { '@aws-cdk/core:validateAgainstDefaultRules': true } });
    const stack = new Stack(app, 'Feature');
    new FeaturePipeline(stack, 'FeaturePipeline', { warehouse: Warehouse.fromNamespace(stack, 'Warehouse', 'acme'), featureId: 'hello' });
    expect(() => app.synth()).not.toThrow();
  });
});
