import { pipelineName } from '@devcontainer-factory/core';
/**
 * Who may act as the image pipeline's roles, and how its functions and projects behave
 * when something runs twice: trust policies with the source account (and source ARN),
 * no asynchronous retries, one build per project at a time, a bounded queue, and the
 * writer path of the Release role.
 */
import { App, Stack, type CfnElement } from 'aws-cdk-lib';
import { Template } from 'aws-cdk-lib/assertions';
import type { IConstruct } from 'constructs';
import { Warehouse, releaseWriterRolePath } from '@devcontainer-factory/warehouse';
import { ImagePipeline, ImagePipelinePropsError, type ImagePipelineProps } from '../src';
import { cfnText, roleStatements } from './template-text';

const logicalId = (c: IConstruct) => Stack.of(c).getLogicalId(c.node.defaultChild as CfnElement);

/** A fresh stack with one image pipeline on the `devcontainers` warehouse. */
function pipelineIn(props: Partial<ImagePipelineProps> = {}) {
  const stack = new Stack(new App());
  const warehouse = Warehouse.fromNamespace(stack, 'Warehouse', 'devcontainers');
  const imagePipeline = new ImagePipeline(stack, 'Python', { warehouse, imageId: 'python', dependsOn: ['base'], usesFeatures: ['hello'], ...props });
  return { stack, imagePipeline, template: Template.fromStack(stack) };
}

type TrustStatement = { Principal: { Service: string }; Condition?: Record<string, Record<string, unknown>> };

/** The trust statements of every role of the template, with their conditions as text. */
function trustOf(template: Template): { role: string; service: string; conditions: Record<string, Record<string, string>> }[] {
  return Object.entries(template.findResources('AWS::IAM::Role')).flatMap(([role, r]) =>
    (r.Properties.AssumeRolePolicyDocument.Statement as TrustStatement[]).map((st) => ({
      role,
      service: st.Principal.Service,
      conditions: Object.fromEntries(
        Object.entries(st.Condition ?? {}).map(([op, keys]) => [op, Object.fromEntries(Object.entries(keys).map(([k, v]) => [k, cfnText(v)]))]),
      ),
    })),
  );
}

describe('trust policies', () => {
  let ctx: ReturnType<typeof pipelineIn>;
  beforeAll(() => {
    ctx = pipelineIn();
  });

  test('every role can be assumed only by its service acting for this account (aws:SourceAccount)', () => {
    const trust = trustOf(ctx.template);
    expect(trust.length).toBeGreaterThanOrEqual(9);
    for (const t of trust)
      expect({ role: t.role, account: t.conditions.StringEquals?.['aws:SourceAccount'] }).toEqual({ role: t.role, account: '<AWS::AccountId>' });
  });

  test('CodeBuild only for a project, EventBridge only for a rule, CodePipeline only for this pipeline, of this account and region (aws:SourceArn)', () => {
    const sourceArns = (service: string) => [
      ...new Set(
        trustOf(ctx.template)
          .filter((t) => t.service === service)
          .map((t) => t.conditions.ArnLike?.['aws:SourceArn']),
      ),
    ];
    expect(sourceArns('codebuild.amazonaws.com')).toEqual(['arn:<AWS::Partition>:codebuild:<AWS::Region>:<AWS::AccountId>:project/*']);
    expect(sourceArns('events.amazonaws.com')).toEqual(['arn:<AWS::Partition>:events:<AWS::Region>:<AWS::AccountId>:rule/*']);
    expect(sourceArns('codepipeline.amazonaws.com')).toEqual([
      `arn:<AWS::Partition>:codepipeline:<AWS::Region>:<AWS::AccountId>:${pipelineName('devcontainers', 'image', 'python')}`,
    ]);
    // Lambda is not documented to send aws:SourceArn for an execution role: the account alone.
    expect(sourceArns('lambda.amazonaws.com')).toEqual([undefined]);
  });

  test('the upload, base-image and feature rules start the pipeline with one role, whose trust names EventBridge', () => {
    const rules = Object.values(ctx.template.findResources('AWS::Events::Rule')).filter((r) => r.Properties.Targets?.[0]?.RoleArn);
    expect(rules).toHaveLength(3);
    const roles = new Set(rules.map((r) => r.Properties.Targets[0].RoleArn['Fn::GetAtt'][0] as string));
    expect(roles.size).toBe(1);
    expect(trustOf(ctx.template).find((t) => roles.has(t.role))!.service).toBe('events.amazonaws.com');
  });
});

describe('Lambda functions', () => {
  test('no function retries a failed asynchronous invocation; the job functions drop an invocation older than the hour CodePipeline gives the action', () => {
    const { template, imagePipeline } = pipelineIn();
    const configs = Object.values(template.findResources('AWS::Lambda::EventInvokeConfig')).map((r) => r.Properties);
    const of = (fn: IConstruct) => configs.find((c) => c.FunctionName.Ref === logicalId(fn));
    for (const fn of [imagePipeline.prepareFunction, imagePipeline.manifestFunction, imagePipeline.releaseFunction]) {
      expect(of(fn)).toMatchObject({ MaximumRetryAttempts: 0, MaximumEventAgeInSeconds: 3600, Qualifier: '$LATEST' });
    }
    expect(of(imagePipeline.retention!.function)).toMatchObject({ MaximumRetryAttempts: 0 });
    expect(configs).toHaveLength(4);
  });

  test('by default no function reserves concurrency (reserved executions come out of the account’s unreserved pool)', () => {
    const { template } = pipelineIn();
    for (const fn of Object.values(template.findResources('AWS::Lambda::Function'))) expect(fn.Properties.ReservedConcurrentExecutions).toBeUndefined();
  });

  test('releaseReservedConcurrency reserves executions for Release only', () => {
    const { template, imagePipeline } = pipelineIn({ releaseReservedConcurrency: 1 });
    const functions = template.findResources('AWS::Lambda::Function');
    expect(functions[logicalId(imagePipeline.releaseFunction)].Properties.ReservedConcurrentExecutions).toBe(1);
    for (const fn of [imagePipeline.prepareFunction, imagePipeline.manifestFunction])
      expect(functions[logicalId(fn)].Properties.ReservedConcurrentExecutions).toBeUndefined();
  });

  test.each([0, -1, 1.5])('releaseReservedConcurrency %p is refused', (value) => {
    expect(() => pipelineIn({ releaseReservedConcurrency: value })).toThrow(ImagePipelinePropsError);
    expect(() => pipelineIn({ releaseReservedConcurrency: value })).toThrow(/releaseReservedConcurrency must be a whole number of at least 1/);
  });
});

describe('CodeBuild projects', () => {
  test('Build and Test run one build per project at a time, and give up after an hour in the queue', () => {
    const { template } = pipelineIn();
    const projects = Object.values(template.findResources('AWS::CodeBuild::Project')).map((p) => p.Properties);
    expect(projects).toHaveLength(4);
    for (const p of projects) expect(p).toMatchObject({ ConcurrentBuildLimit: 1, QueuedTimeoutInMinutes: 60 });
  });
});

describe('the Release role', () => {
  test('is under the namespace’s image-release path, the only roles the release repositories take a push from; no other role of the pipeline is', () => {
    const { template, imagePipeline } = pipelineIn();
    const roles = template.findResources('AWS::IAM::Role');
    expect(roles[logicalId(imagePipeline.releaseFunction.role!)].Properties.Path).toBe(releaseWriterRolePath('devcontainers', 'image'));
    const others = Object.entries(roles).filter(([id]) => id !== logicalId(imagePipeline.releaseFunction.role!));
    for (const [, r] of others) expect(r.Properties.Path).toBeUndefined();
  });
});

describe('Prepare', () => {
  const readable = (props: Partial<ImagePipelineProps>) => {
    const { template, imagePipeline } = pipelineIn(props);
    return roleStatements(template, logicalId(imagePipeline.prepareFunction.role!))
      .filter((s) => s.actions.includes('ecr:BatchGetImage'))
      .flatMap((s) => s.resources)
      .map((r) => r.replace('arn:<AWS::Partition>:ecr:<AWS::Region>:<AWS::AccountId>:repository/', ''))
      .sort();
  };

  test('reads manifests of its release repository and of what Build may pull: the dependsOn bases, the usesFeatures features, the pull-through caches', () => {
    expect(readable({ ecrPublicCachePrefix: 'devcontainers/ecr-public', pullThroughCachePrefixes: ['devcontainers/docker-hub'] })).toEqual([
      'devcontainers/docker-hub/*',
      'devcontainers/ecr-public/*',
      'devcontainers/features/hello',
      'devcontainers/images/base',
      'devcontainers/images/python',
    ]);
  });

  test('reads nothing else of the namespace: no other image or feature, no staging, no collection', () => {
    expect(readable({})).toEqual(['devcontainers/features/hello', 'devcontainers/images/base', 'devcontainers/images/python']);
  });
});
