import { App, Stack, Validations } from 'aws-cdk-lib';
import { Annotations, Match, Template } from 'aws-cdk-lib/assertions';
import * as s3 from 'aws-cdk-lib/aws-s3';
import * as sns from 'aws-cdk-lib/aws-sns';
import { AwsSolutionsChecks } from 'cdk-nag';
import { FailureTopic, Warehouse, WarehousePropsError, WarehouseStack, type WarehouseProps } from '../src';

const ENV = { account: '123456789012', region: 'eu-west-1' };

function synth(props: WarehouseProps = {}) {
  const stack = new Stack(new App(), 'Stack', { env: ENV });
  const warehouse = new Warehouse(stack, 'Warehouse', { namespace: 'acme', ...props });
  return { stack, warehouse, template: Template.fromStack(stack) };
}

/** The statements of the template's one topic policy. */
const topicPolicyStatements = (t: Template) => {
  const policies = Object.values(t.findResources('AWS::SNS::TopicPolicy'));
  expect(policies).toHaveLength(1);
  return policies[0].Properties.PolicyDocument.Statement as Record<string, unknown>[];
};
/** The statements of the policy of the key whose logical id starts with `keyPrefix`. */
const keyPolicyStatements = (t: Template, keyPrefix: string) => {
  const keys = Object.entries(t.findResources('AWS::KMS::Key')).filter(([id]) => id.startsWith(keyPrefix));
  expect(keys).toHaveLength(1);
  return keys[0][1].Properties.KeyPolicy.Statement as Record<string, unknown>[];
};

describe('the warehouse failure topic', () => {
  let ctx: ReturnType<typeof synth>;
  beforeAll(() => {
    ctx = synth();
  });

  test('is one SNS topic encrypted with a key of its own, rotated, aliased alias/<ns>/factory/notifications, and retained', () => {
    ctx.template.resourceCountIs('AWS::SNS::Topic', 1);
    ctx.template.hasResource('AWS::SNS::Topic', {
      Properties: {
        KmsMasterKeyId: { 'Fn::GetAtt': [Match.stringLikeRegexp('^WarehouseFailuresKey'), 'Arn'] },
        DisplayName: 'devcontainer-factory acme failures',
      },
      DeletionPolicy: 'Retain',
    });
    ctx.template.hasResource('AWS::KMS::Key', {
      Properties: { EnableKeyRotation: true, Description: Match.stringLikeRegexp('failure notifications') },
      DeletionPolicy: 'Retain',
    });
    ctx.template.hasResourceProperties('AWS::KMS::Alias', {
      AliasName: 'alias/acme/factory/notifications',
      TargetKeyId: { 'Fn::GetAtt': [Match.stringLikeRegexp('^WarehouseFailuresKey'), 'Arn'] },
    });
    expect(ctx.warehouse.failureTopic).toBeInstanceOf(sns.Topic);
  });

  test('denies publishing without TLS, and lets only EventBridge rules and CloudWatch alarms of this account and region publish', () => {
    const statements = topicPolicyStatements(ctx.template);
    expect(statements).toEqual(
      expect.arrayContaining([
        expect.objectContaining({ Effect: 'Deny', Condition: { Bool: { 'aws:SecureTransport': 'false' } } }),
        expect.objectContaining({
          Effect: 'Allow',
          Action: 'sns:Publish',
          Principal: { Service: 'events.amazonaws.com' },
          Condition: {
            StringEquals: { 'aws:SourceAccount': '123456789012' },
            ArnLike: { 'aws:SourceArn': { 'Fn::Join': ['', ['arn:', { Ref: 'AWS::Partition' }, ':events:eu-west-1:123456789012:rule/*']] } },
          },
        }),
        expect.objectContaining({
          Effect: 'Allow',
          Action: 'sns:Publish',
          Principal: { Service: 'cloudwatch.amazonaws.com' },
          Condition: {
            StringEquals: { 'aws:SourceAccount': '123456789012' },
            ArnLike: { 'aws:SourceArn': { 'Fn::Join': ['', ['arn:', { Ref: 'AWS::Partition' }, ':cloudwatch:eu-west-1:123456789012:alarm:*']] } },
          },
        }),
      ]),
    );
    expect(statements.filter((s) => s.Effect === 'Allow')).toHaveLength(2);
  });

  test("its key lets EventBridge and this account's alarms encrypt, and the account's principals only through SNS", () => {
    const statements = keyPolicyStatements(ctx.template, 'WarehouseFailuresKey');
    expect(statements).toEqual(
      expect.arrayContaining([
        expect.objectContaining({ Principal: { Service: 'events.amazonaws.com' }, Action: ['kms:Decrypt', 'kms:GenerateDataKey*'], Resource: '*' }),
        expect.objectContaining({
          Principal: { Service: 'cloudwatch.amazonaws.com' },
          Action: ['kms:Decrypt', 'kms:GenerateDataKey*'],
          Condition: { StringEquals: { 'aws:SourceAccount': '123456789012' }, ArnLike: { 'aws:SourceArn': expect.anything() } },
        }),
        expect.objectContaining({
          Principal: { AWS: '*' },
          Action: ['kms:Decrypt', 'kms:GenerateDataKey*'],
          Condition: { StringEquals: { 'kms:CallerAccount': '123456789012', 'kms:ViaService': 'sns.eu-west-1.amazonaws.com' } },
        }),
      ]),
    );
    // The warehouse's other keys are not opened to these services.
    for (const prefix of ['WarehouseS3Key', 'WarehouseEcrKey']) {
      expect(JSON.stringify(keyPolicyStatements(ctx.template, prefix))).not.toMatch(/events\.amazonaws\.com|cloudwatch\.amazonaws\.com|kms:ViaService/);
    }
  });

  test('its ARN is the SSM parameter /<ns>/factory/failure-topic-arn, and nobody is subscribed by default', () => {
    ctx.template.hasResourceProperties('AWS::SSM::Parameter', {
      Name: '/acme/factory/failure-topic-arn',
      Value: { Ref: Match.stringLikeRegexp('^WarehouseFailuresTopic') },
    });
    ctx.template.resourceCountIs('AWS::SNS::Subscription', 0);
  });
});

describe('notify', () => {
  test('subscribes email addresses by email and https URLs by HTTPS', () => {
    const { template } = synth({ notify: ['platform@example.com', 'https://hooks.example.com/factory'] });
    template.resourceCountIs('AWS::SNS::Subscription', 2);
    const topic = { Ref: Match.stringLikeRegexp('^WarehouseFailuresTopic') };
    template.hasResourceProperties('AWS::SNS::Subscription', { Protocol: 'email', Endpoint: 'platform@example.com', TopicArn: topic });
    template.hasResourceProperties('AWS::SNS::Subscription', { Protocol: 'https', Endpoint: 'https://hooks.example.com/factory', TopicArn: topic });
  });

  test.each<[string[], RegExp]>([
    [['platform'], /Warehouse: notify: 'platform' is neither an email address \(name@example.com\) nor an https:\/\/ URL/],
    [['http://hooks.example.com/x'], /notify: 'http:\/\/hooks.example.com\/x' is not an https:\/\/ URL/],
    [['a@example.com', 'a@example.com'], /notify: 'a@example.com' is named more than once/],
  ])('refuses %j before anything is created', (notify, message) => {
    const stack = new Stack();
    expect(() => new Warehouse(stack, 'Warehouse', { notify })).toThrow(WarehousePropsError);
    expect(() => new Warehouse(new Stack(), 'Warehouse', { notify })).toThrow(message);
    expect(Template.fromStack(stack).toJSON().Resources ?? {}).toEqual({});
  });
});

describe("a team's own failure topic", () => {
  test('GIVEN a topic of the app THEN the warehouse creates none, opens that one to rules and alarms, subscribes to it and names it in the parameter', () => {
    const stack = new Stack(new App(), 'Stack', { env: ENV });
    const team = new sns.Topic(stack, 'TeamTopic');
    const warehouse = new Warehouse(stack, 'Warehouse', { namespace: 'acme', failureTopic: team, notify: ['platform@example.com'] });
    const template = Template.fromStack(stack);

    expect(warehouse.failureTopic).toBe(team);
    template.resourceCountIs('AWS::SNS::Topic', 1);
    expect(Object.keys(template.findResources('AWS::KMS::Alias', { Properties: { AliasName: 'alias/acme/factory/notifications' } }))).toEqual([]);
    const principals = topicPolicyStatements(template).map((s) => JSON.stringify(s.Principal));
    expect(principals).toEqual(
      expect.arrayContaining([JSON.stringify({ Service: 'events.amazonaws.com' }), JSON.stringify({ Service: 'cloudwatch.amazonaws.com' })]),
    );
    template.hasResourceProperties('AWS::SNS::Subscription', {
      Protocol: 'email',
      Endpoint: 'platform@example.com',
      TopicArn: { Ref: Match.stringLikeRegexp('^TeamTopic') },
    });
    template.hasResourceProperties('AWS::SSM::Parameter', { Name: '/acme/factory/failure-topic-arn', Value: { Ref: Match.stringLikeRegexp('^TeamTopic') } });
  });

  test('GIVEN an imported topic THEN a warning says what its policy and key must allow', () => {
    const stack = new Stack(new App(), 'Stack', { env: ENV });
    const team = sns.Topic.fromTopicArn(stack, 'TeamTopic', 'arn:aws:sns:eu-west-1:123456789012:platform-alerts');
    new Warehouse(stack, 'Warehouse', { failureTopic: team });
    Annotations.fromStack(stack).hasWarning(
      '/Stack/Warehouse',
      Match.stringLikeRegexp('the failure topic .* is imported: make sure its policy lets events.amazonaws.com and cloudwatch.amazonaws.com publish'),
    );
    Template.fromStack(stack).resourceCountIs('AWS::SNS::Topic', 0);
  });

  test('GIVEN a warehouse of own resources with a failure topic THEN pipelines see it; without one they see none', () => {
    const stack = new Stack(new App(), 'Stack', { env: ENV });
    const failures = new FailureTopic(stack, 'Failures');
    const attrs = {
      namespace: 'acme',
      sourceBucket: s3.Bucket.fromBucketName(stack, 'Source', 'src'),
      artifactBucket: s3.Bucket.fromBucketName(stack, 'Artifacts', 'art'),
    };
    const kms = failures.encryptionKey;
    expect(Warehouse.fromWarehouseAttributes(stack, 'With', { ...attrs, s3Key: kms, failureTopic: failures.topic }).failureTopic).toBe(failures.topic);
    expect(Warehouse.fromWarehouseAttributes(stack, 'Without', { ...attrs, s3Key: kms }).failureTopic).toBeUndefined();
  });
});

describe('Warehouse.fromNamespace', () => {
  test('finds the failure topic by its SSM parameter, referenced only when used', () => {
    const unused = new Stack();
    Warehouse.fromNamespace(unused, 'Warehouse', 'acme');
    expect(JSON.stringify(Template.fromStack(unused).toJSON())).not.toContain('failure-topic-arn');

    const stack = new Stack();
    const warehouse = Warehouse.fromNamespace(stack, 'Warehouse', 'acme');
    new sns.Subscription(stack, 'Probe', { topic: warehouse.failureTopic!, protocol: sns.SubscriptionProtocol.EMAIL, endpoint: 'a@example.com' });
    const template = Template.fromStack(stack);
    const parameters = template.toJSON().Parameters as Record<string, { Default: string }>;
    const [name] = Object.entries(parameters).find(([, p]) => p.Default === '/acme/factory/failure-topic-arn')!;
    template.hasResourceProperties('AWS::SNS::Subscription', { TopicArn: { Ref: name } });
  });
});

describe('FailureTopic', () => {
  test('is clean under cdk-nag AwsSolutionsChecks on its own and in a WarehouseStack with subscriptions', () => {
    const app = new App();
    new FailureTopic(new Stack(app, 'Alone'), 'Failures', { notify: ['platform@example.com'] });
    new WarehouseStack(app, undefined, { namespace: 'acme', env: ENV, notify: ['platform@example.com', 'https://hooks.example.com/factory'] });
    Validations.of(app).addPlugins(new AwsSolutionsChecks(app));
    expect(() => app.synth()).not.toThrow();
  });
});
