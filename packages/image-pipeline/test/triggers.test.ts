import { pipelineName } from '@devcontainer-factory/core';
/**
 * What starts an image pipeline besides an upload: a schedule (refresh) and a push of
 * a tag of a factory feature the image uses. Prepare skips the build when no input moved.
 */
import { App, Stack, Validations, type CfnElement } from 'aws-cdk-lib';
import { Template } from 'aws-cdk-lib/assertions';
import { AwsSolutionsChecks } from 'cdk-nag';
import type { IConstruct } from 'constructs';
import { Warehouse } from '@devcontainer-factory/warehouse';
import { ImagePipeline, ImagePipelinePropsError, ImagePipelineStack, type ImagePipelineProps } from '../src';
import { MAX_SCHEDULE_NAME_LENGTH, refreshScheduleName } from '../src/private/triggers';
import { cfnText, roleStatements } from './template-text';

const logicalId = (c: IConstruct) => Stack.of(c).getLogicalId(c.node.defaultChild as CfnElement);

/** A fresh stack with one image pipeline on the `devcontainers` warehouse. */
function pipelineIn(props: Partial<ImagePipelineProps> = {}) {
  const stack = new Stack(new App());
  const warehouse = Warehouse.fromNamespace(stack, 'Warehouse', 'devcontainers');
  const imagePipeline = new ImagePipeline(stack, 'Python', { warehouse, imageId: 'python', retention: false, ...props });
  return { stack, imagePipeline, template: Template.fromStack(stack) };
}

function schedules(template: Template) {
  return Object.values(template.findResources('AWS::Scheduler::Schedule')).map((r) => r.Properties);
}

const ecrRules = (template: Template) =>
  Object.values(template.findResources('AWS::Events::Rule')).filter((r) => r.Properties.EventPattern?.source?.[0] === 'aws.ecr');

describe('the refresh schedule', () => {
  let ctx: ReturnType<typeof pipelineIn>;
  beforeAll(() => {
    ctx = pipelineIn();
  });

  test('by default starts the pipeline weekly: rate(7 days), UTC, within a 4-hour flexible window, named after the pipeline, in the default group', () => {
    const [schedule, ...others] = schedules(ctx.template);
    expect(others).toEqual([]);
    expect(schedule).toMatchObject({
      Name: `${pipelineName('devcontainers', 'image', 'python')}-refresh`,
      ScheduleExpression: 'rate(7 days)',
      ScheduleExpressionTimezone: 'Etc/UTC',
      // Spread over the window: the schedules of one deploy, which all count from it, do not start every pipeline at once.
      FlexibleTimeWindow: { Mode: 'FLEXIBLE', MaximumWindowInMinutes: 240 },
      State: 'ENABLED',
    });
    expect(schedule.GroupName).toBeUndefined();
    expect(ctx.imagePipeline.refreshSchedule).toBeDefined();
  });

  test('targets this pipeline, with its own role', () => {
    const [schedule] = schedules(ctx.template);
    expect(cfnText(schedule.Target.Arn)).toBe(`arn:<AWS::Partition>:codepipeline:<AWS::Region>:<AWS::AccountId>:<${logicalId(ctx.imagePipeline.pipeline)}>`);
    const roleId = (schedule.Target.RoleArn as { 'Fn::GetAtt': string[] })['Fn::GetAtt'][0];
    expect(roleId).toMatch(/^PythonRefreshRole[0-9A-F]{8}$/);
    expect(Object.keys(ctx.template.findResources('AWS::IAM::Role'))).toContain(roleId);
  });

  test('its role may only codepipeline:StartPipelineExecution on this pipeline’s ARN', () => {
    const [schedule] = schedules(ctx.template);
    const roleId = (schedule.Target.RoleArn as { 'Fn::GetAtt': string[] })['Fn::GetAtt'][0];
    expect(roleStatements(ctx.template, roleId)).toEqual([
      {
        actions: ['codepipeline:StartPipelineExecution'],
        resources: [`arn:<AWS::Partition>:codepipeline:<AWS::Region>:<AWS::AccountId>:<${logicalId(ctx.imagePipeline.pipeline)}>`],
      },
    ]);
    const role = ctx.template.findResources('AWS::IAM::Role')[roleId].Properties;
    expect(role.ManagedPolicyArns).toBeUndefined();
    expect(role.Policies).toBeUndefined();
  });

  test('its role can be assumed only by Scheduler on behalf of this schedule in this account', () => {
    const [schedule] = schedules(ctx.template);
    const roleId = (schedule.Target.RoleArn as { 'Fn::GetAtt': string[] })['Fn::GetAtt'][0];
    const [statement, ...others] = ctx.template.findResources('AWS::IAM::Role')[roleId].Properties.AssumeRolePolicyDocument.Statement;
    expect(others).toEqual([]);
    expect(statement.Principal).toEqual({ Service: 'scheduler.amazonaws.com' });
    expect(statement.Action).toBe('sts:AssumeRole');
    expect(cfnText(statement.Condition.StringEquals['aws:SourceAccount'])).toBe('<AWS::AccountId>');
    expect(cfnText(statement.Condition.StringEquals['aws:SourceArn'])).toBe(
      `arn:<AWS::Partition>:scheduler:<AWS::Region>:<AWS::AccountId>:schedule/default/${pipelineName('devcontainers', 'image', 'python')}-refresh`,
    );
  });

  test('daily is rate(1 day)', () => {
    expect(schedules(pipelineIn({ refresh: 'daily' }).template)).toEqual([
      expect.objectContaining({ ScheduleExpression: 'rate(1 day)', ScheduleExpressionTimezone: 'Etc/UTC' }),
    ]);
  });

  test("'off' creates no schedule and no role for it", () => {
    const { template, imagePipeline } = pipelineIn({ refresh: 'off' });
    template.resourceCountIs('AWS::Scheduler::Schedule', 0);
    expect(imagePipeline.refreshSchedule).toBeUndefined();
    const principals = Object.values(template.findResources('AWS::IAM::Role')).flatMap((r) =>
      r.Properties.AssumeRolePolicyDocument.Statement.map((s: { Principal: unknown }) => s.Principal),
    );
    expect(principals).not.toContainEqual({ Service: 'scheduler.amazonaws.com' });
  });

  test('an unknown refresh value is refused with the allowed ones', () => {
    expect(() => pipelineIn({ refresh: 'monthly' as never })).toThrow(ImagePipelinePropsError);
    expect(() => pipelineIn({ refresh: 'monthly' as never })).toThrow("refresh 'monthly' is unknown: use daily, weekly, off");
  });
});

describe('refreshScheduleName', () => {
  test('is <pipeline>-refresh when that fits Scheduler’s 64 characters', () => {
    const pipeline = `ns-image-${'x'.repeat(64 - '-refresh'.length - 'ns-image-'.length)}`;
    expect(refreshScheduleName(pipeline)).toBe(`${pipeline}-refresh`);
    expect(refreshScheduleName(pipeline)).toHaveLength(64);
  });

  test('beyond 64 characters is cut to 64 with a hash of the whole pipeline name: the same every time, distinct per pipeline, valid for Scheduler', () => {
    const a = `${'n'.repeat(32)}-image-${'a'.repeat(60)}1`;
    const b = `${'n'.repeat(32)}-image-${'a'.repeat(60)}2`;
    expect(refreshScheduleName(a)).toHaveLength(MAX_SCHEDULE_NAME_LENGTH);
    expect(refreshScheduleName(a)).toMatch(/^n{32}-image-a{8}-[0-9a-f]{8}-refresh$/);
    expect(refreshScheduleName(a)).toBe(refreshScheduleName(a));
    expect(refreshScheduleName(a)).not.toBe(refreshScheduleName(b));
    expect(refreshScheduleName(a)).toMatch(/^[0-9a-zA-Z-_.]{1,64}$/);
  });

  test('the synthesized schedule of a long pipeline name carries the shortened name', () => {
    const imageId = 'a'.repeat(61);
    const [schedule] = schedules(pipelineIn({ imageId }).template);
    expect(schedule.Name).toBe(refreshScheduleName(pipelineName('devcontainers', 'image', imageId)));
    expect(schedule.Name.length).toBeLessThanOrEqual(64);
  });
});

describe('the feature rule', () => {
  test('starts the pipeline on a successful push of any tag to the repositories of the features the image uses', () => {
    // GIVEN an image that uses two factory features
    const { template, imagePipeline } = pipelineIn({ usesFeatures: ['hello', 'world'] });
    // THEN one rule matches both repositories, without a tag filter
    const [rule, ...others] = ecrRules(template);
    expect(others).toEqual([]);
    expect(rule.Properties.EventPattern).toEqual({
      source: ['aws.ecr'],
      'detail-type': ['ECR Image Action'],
      detail: { 'action-type': ['PUSH'], result: ['SUCCESS'], 'repository-name': ['devcontainers/features/hello', 'devcontainers/features/world'] },
    });
    expect(rule.Properties.Targets).toHaveLength(1);
    expect(cfnText(rule.Properties.Targets[0].Arn)).toBe(
      `arn:<AWS::Partition>:codepipeline:<AWS::Region>:<AWS::AccountId>:<${logicalId(imagePipeline.pipeline)}>`,
    );
    expect(logicalId(imagePipeline.featureRule!)).toBe(
      Object.keys(template.findResources('AWS::Events::Rule', { Properties: { EventPattern: rule.Properties.EventPattern } }))[0],
    );
  });

  test('sits beside the base image rule, which still matches only latest', () => {
    const rules = ecrRules(pipelineIn({ dependsOn: ['base'], usesFeatures: ['hello'] }).template).map((r) => r.Properties.EventPattern.detail);
    expect(rules).toEqual(
      expect.arrayContaining([
        expect.objectContaining({ 'repository-name': ['devcontainers/images/base'], 'image-tag': ['latest'] }),
        { 'action-type': ['PUSH'], result: ['SUCCESS'], 'repository-name': ['devcontainers/features/hello'] },
      ]),
    );
  });

  test('its description stays the same short length whatever the feature ids (CloudFormation allows 512 characters)', () => {
    const features = Array.from({ length: 40 }, (_, i) => `f${i}-${'x'.repeat(56)}`);
    const [rule] = ecrRules(pipelineIn({ usesFeatures: features }).template);
    expect(rule.Properties.Description).toBe('Starts the image pipeline when a tag of one of the 40 factory features it uses is pushed');
    expect(ecrRules(pipelineIn({ usesFeatures: ['hello'] }).template)[0].Properties.Description).toBe(
      'Starts the image pipeline when a tag of one of the 1 factory feature it uses is pushed',
    );
  });

  test('the Build role may pull each feature the image uses (the devcontainer CLI fetches its tarball), and no other', () => {
    // GIVEN an image that uses two factory features
    const { template, imagePipeline } = pipelineIn({ usesFeatures: ['hello', 'world'] });
    // THEN Build reads both feature repositories, and nothing under features/ beyond them
    const statements = roleStatements(template, logicalId(imagePipeline.buildRole));
    const on = (name: string) =>
      [...new Set(statements.filter((s) => s.resources.some((r) => r.endsWith(`:repository/${name}`))).flatMap((s) => s.actions))].sort();
    for (const feature of ['hello', 'world'])
      expect(on(`devcontainers/features/${feature}`)).toEqual(expect.arrayContaining(['ecr:BatchGetImage', 'ecr:GetDownloadUrlForLayer']));
    expect(
      statements
        .flatMap((s) => s.resources)
        .filter((r) => r.includes(':repository/devcontainers/features/'))
        .sort(),
    ).toEqual([
      'arn:<AWS::Partition>:ecr:<AWS::Region>:<AWS::AccountId>:repository/devcontainers/features/hello',
      'arn:<AWS::Partition>:ecr:<AWS::Region>:<AWS::AccountId>:repository/devcontainers/features/world',
    ]);
  });

  test('without usesFeatures, or with none, there is no feature rule', () => {
    for (const usesFeatures of [undefined, []]) {
      const { template, imagePipeline } = pipelineIn({ usesFeatures });
      expect(ecrRules(template)).toEqual([]);
      expect(imagePipeline.featureRule).toBeUndefined();
    }
  });

  test.each<[string, string[], string | RegExp]>([
    ['an invalid feature id', ['Hello'], /^Default\/Python: usesFeatures of image 'python': feature id 'Hello' is invalid: .*\(try 'hello'\)$/],
    ['an empty feature id', [''], "usesFeatures of image 'python': feature id must not be empty"],
    ['a feature named twice', ['hello', 'world', 'hello'], "usesFeatures of image 'python' names 'hello' more than once: name each once"],
  ])('%s is refused with ImagePipelinePropsError', (_what, usesFeatures, message) => {
    expect(() => pipelineIn({ usesFeatures })).toThrow(ImagePipelinePropsError);
    expect(() => pipelineIn({ usesFeatures })).toThrow(message);
  });
});

test('a stack with the schedule and the feature rule is clean under cdk-nag AwsSolutionsChecks', () => {
  // GIVEN the stack the factory app deploys, with a daily refresh, a base image and a feature
  const app = new App({ context: { '@aws-cdk/core:enablePartitionLiterals': true, '@aws-cdk/aws-iam:minimizePolicies': true } });
  new ImagePipelineStack(app, 'devcontainers-image-python', {
    env: { account: '123456789012', region: 'eu-west-1' },
    imageId: 'python',
    dependsOn: ['base'],
    usesFeatures: ['hello'],
    refresh: 'daily',
  });
  // WHEN the checks run at synthesis
  Validations.of(app).addPlugins(new AwsSolutionsChecks(app));
  // THEN no finding is left unacknowledged
  expect(() => app.synth()).not.toThrow();
});
