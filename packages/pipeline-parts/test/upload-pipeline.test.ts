import { pipelineName } from '@devcontainer-factory/core';
import { App, Stack, Validations } from 'aws-cdk-lib';
import { Match, Template } from 'aws-cdk-lib/assertions';
import * as codepipeline from 'aws-cdk-lib/aws-codepipeline';
import { AwsSolutionsChecks } from 'cdk-nag';
import type { Construct } from 'constructs';
import { Warehouse } from '@devcontainer-factory/warehouse';
import { PipelineStack, type PipelineStackProps } from '../src';
import { withUploadPipeline } from './support/smallest-upload-pipeline';

class HelloPipelineStack extends PipelineStack {
  constructor(scope: Construct, id: string | undefined, props: PipelineStackProps & { readonly featureId: string }) {
    super(scope, id, props, { kind: 'feature', id: props.featureId, does: 'approves' });
    withUploadPipeline(this, this.warehouse, { artifactId: props.featureId });
  }
}

describe('addUploadPipeline', () => {
  test('adds a V2 pipeline named dcf-<hash>-<ns>-<kind>-<id> whose Source reads the exact key without polling, then the given stages', () => {
    // GIVEN
    const stack = new Stack();
    const warehouse = Warehouse.fromNamespace(stack, 'Warehouse', 'acme');
    // WHEN
    const { pipeline } = withUploadPipeline(stack, warehouse, { sourceVariablesNamespace: 'Source' });
    // THEN
    const template = Template.fromStack(stack);
    template.hasResourceProperties('AWS::CodePipeline::Pipeline', {
      Name: pipelineName('acme', 'feature', 'hello'),
      PipelineType: 'V2',
      ExecutionMode: 'QUEUED',
      ArtifactStore: { Type: 'S3', Location: { Ref: Match.stringLikeRegexp('^SsmParameterValueacmefactoryartifactbucketname') } },
      Stages: [
        Match.objectLike({
          Name: 'Source',
          Actions: [
            Match.objectLike({ Namespace: 'Source', Configuration: Match.objectLike({ S3ObjectKey: 'acme/features/hello.zip', PollForSourceChanges: false }) }),
          ],
        }),
        Match.objectLike({ Name: 'Approve' }),
      ],
    });
    expect(pipeline.node.id).toBe('Pipeline');
  });

  test('adds an EventBridge rule on Object Created of exactly that key in the source bucket, targeting the pipeline', () => {
    // GIVEN
    const stack = new Stack();
    const warehouse = Warehouse.fromNamespace(stack, 'Warehouse', 'acme');
    // WHEN
    const { pipeline, sourceRule } = withUploadPipeline(stack, warehouse, { kind: 'image', artifactId: 'python' });
    // THEN
    Template.fromStack(stack).hasResourceProperties('AWS::Events::Rule', {
      Description: 'Starts the image pipeline when acme/images/python.zip is uploaded',
      EventPattern: {
        source: ['aws.s3'],
        'detail-type': ['Object Created'],
        detail: {
          bucket: { name: [{ Ref: Match.stringLikeRegexp('^SsmParameterValueacmefactorysourcebucketname') }] },
          object: { key: ['acme/images/python.zip'] },
        },
      },
      Targets: [
        Match.objectLike({
          Arn: Match.objectLike({
            'Fn::Join': Match.arrayWith([Match.arrayWith([{ Ref: stack.getLogicalId(pipeline.node.defaultChild as codepipeline.CfnPipeline) }])]),
          }),
        }),
      ],
    });
    expect(sourceRule.node.id).toBe('SourceUploaded');
  });
});

describe('PipelineStack', () => {
  test('is named <ns>-<kind>-<id> and described, and finds the warehouse through SSM parameters', () => {
    // GIVEN / WHEN
    const stack = new HelloPipelineStack(new App(), undefined, { namespace: 'acme', featureId: 'hello' });
    // THEN
    expect(stack.stackName).toBe('acme-feature-hello');
    expect(stack.templateOptions.description).toBe("devcontainer-factory acme: approves the feature 'hello'");
    const defaults = Object.values(Template.fromStack(stack).toJSON().Parameters).map((p) => (p as { Default?: string }).Default);
    expect(defaults).toEqual(expect.arrayContaining(['/acme/factory/source-bucket-name', '/acme/factory/artifact-bucket-name']));
  });

  test('rejects an invalid namespace or id before creating anything', () => {
    const app = new App();
    expect(() => new HelloPipelineStack(app, undefined, { namespace: 'Acme', featureId: 'hello' })).toThrow(/namespace 'Acme' is invalid/);
    expect(() => new HelloPipelineStack(app, undefined, { featureId: 'Hello_World' })).toThrow(/feature id 'Hello_World' is invalid/);
    expect(app.node.children).toHaveLength(0);
  });

  test("with an upload pipeline is clean under cdk-nag: the pipeline role's artifact grants are acknowledged", () => {
    // GIVEN
    const app = new App({ context: { '@aws-cdk/core:enablePartitionLiterals': true } });
    new HelloPipelineStack(app, undefined, { featureId: 'hello', env: { account: '123456789012', region: 'eu-west-1' } });
    // WHEN
    Validations.of(app).addPlugins(new AwsSolutionsChecks(app));
    // THEN
    expect(() => app.synth()).not.toThrow();
  });
});
