import { App, Duration, Stack, Validations } from 'aws-cdk-lib';
import { Match, Template } from 'aws-cdk-lib/assertions';
import * as events from 'aws-cdk-lib/aws-events';
import * as iam from 'aws-cdk-lib/aws-iam';
import * as logs from 'aws-cdk-lib/aws-logs';
import { AwsSolutionsChecks } from 'cdk-nag';
import { IMAGE_RETENTION_ACTIONS, ImagePipelinePropsError, ImageRetention, type ImageRetentionProps } from '../src';

const HOST = '123456789012.dkr.ecr.eu-west-1.amazonaws.com';
const BASE: ImageRetentionProps = { registryHost: HOST, releaseRepository: 'devcontainers/images/python', stagingRepository: 'devcontainers/builds/python' };

function retentionIn(props: Partial<ImageRetentionProps> = {}, env = { account: '123456789012', region: 'eu-west-1' }) {
  const app = new App();
  const stack = new Stack(app, 'Stack', { env });
  const retention = new ImageRetention(stack, 'Retention', { ...BASE, ...props });
  return { app, stack, retention, template: Template.fromStack(stack) };
}

/** Every statement of every IAM policy in the template. */
function statements(template: Template): { Action: string | string[]; Resource: unknown; Effect: string }[] {
  return Object.values(template.findResources('AWS::IAM::Policy')).flatMap((p) => p.Properties.PolicyDocument.Statement);
}

describe('ImageRetention with default props', () => {
  let ctx: ReturnType<typeof retentionIn>;
  beforeAll(() => {
    ctx = retentionIn();
  });

  test('runs the retention bundle once a day', () => {
    ctx.template.hasResourceProperties('AWS::Events::Rule', {
      ScheduleExpression: 'rate(1 day)',
      State: 'ENABLED',
      Targets: [Match.objectLike({ Arn: { 'Fn::GetAtt': [Match.stringLikeRegexp('RetentionFunction'), 'Arn'] } })],
    });
    ctx.template.resourceCountIs('AWS::Events::Rule', 1);
    ctx.template.hasResourceProperties('AWS::Lambda::Permission', { Action: 'lambda:InvokeFunction', Principal: 'events.amazonaws.com' });
  });

  test('gives the function the repositories, 10 date tags, 14 days and no dry run', () => {
    ctx.template.hasResourceProperties('AWS::Lambda::Function', {
      Runtime: 'nodejs22.x',
      Architectures: ['arm64'],
      Handler: 'index.handler',
      Timeout: 900,
      Environment: {
        Variables: {
          REGISTRY_HOST: HOST,
          RELEASE_REPOSITORY: 'devcontainers/images/python',
          STAGING_REPOSITORY: 'devcontainers/builds/python',
          KEEP_DATE_TAGS: '10',
          STAGING_MAX_AGE_DAYS: '14',
          DRY_RUN: 'false',
        },
      },
    });
  });

  test('may only list, read and delete images of the release and staging repositories, take its lock, and write its logs', () => {
    const ecr = statements(ctx.template).filter((s) => [s.Action].flat().some((a) => a.startsWith('ecr:')));
    expect(ecr).toEqual([
      {
        Effect: 'Allow',
        Action: ['ecr:ListImages', 'ecr:BatchGetImage', 'ecr:DescribeImages', 'ecr:BatchDeleteImage', 'ecr:GetDownloadUrlForLayer'],
        Resource: [
          { 'Fn::Join': ['', ['arn:', { Ref: 'AWS::Partition' }, ':ecr:eu-west-1:123456789012:repository/devcontainers/images/python']] },
          { 'Fn::Join': ['', ['arn:', { Ref: 'AWS::Partition' }, ':ecr:eu-west-1:123456789012:repository/devcontainers/builds/python']] },
        ],
      },
    ]);
    const others = statements(ctx.template).filter((s) => !ecr.includes(s));
    expect(others.flatMap((s) => [s.Action].flat()).sort()).toEqual(['dynamodb:DeleteItem', 'dynamodb:PutItem', 'logs:CreateLogStream', 'logs:PutLogEvents']);
    expect(JSON.stringify(statements(ctx.template))).not.toMatch(/"Resource":"\*"/);
    ctx.template.resourceCountIs('AWS::IAM::Policy', 1);
    expect(Template.fromStack(ctx.stack).findResources('AWS::IAM::Role', { Properties: { ManagedPolicyArns: Match.anyValue() } })).toEqual({});
  });

  test('logs to a new log group kept three months and retained', () => {
    ctx.template.hasResource('AWS::Logs::LogGroup', { Properties: { RetentionInDays: 90 }, DeletionPolicy: 'Retain' });
  });
});

test('the props set the schedule, numbers, dry run, log group and ARNs', () => {
  // GIVEN
  const stack = new Stack();
  const logGroup = new logs.LogGroup(stack, 'Mine');
  // WHEN
  new ImageRetention(stack, 'Retention', {
    ...BASE,
    keepDateTags: 3,
    stagingMaxAgeDays: 7,
    dryRun: true,
    schedule: events.Schedule.cron({ hour: '3', minute: '0' }),
    logGroup,
    repositoryArn: (name) => `arn:aws:ecr:eu-west-1:111111111111:repository/${name}`,
    stagingRepositoryArn: 'arn:aws:ecr:eu-west-1:222222222222:repository/devcontainers/builds/python',
  });
  // THEN
  const template = Template.fromStack(stack);
  template.hasResourceProperties('AWS::Events::Rule', { ScheduleExpression: 'cron(0 3 * * ? *)' });
  template.hasResourceProperties('AWS::Lambda::Function', {
    Environment: { Variables: Match.objectLike({ KEEP_DATE_TAGS: '3', STAGING_MAX_AGE_DAYS: '7', DRY_RUN: 'true' }) },
    LoggingConfig: { LogGroup: { Ref: Match.stringLikeRegexp('Mine') } },
  });
  template.resourceCountIs('AWS::Logs::LogGroup', 1);
  const ecr = statements(template).find((s) => [s.Action].flat().includes('ecr:BatchDeleteImage'))!;
  expect(ecr.Resource).toEqual([
    'arn:aws:ecr:eu-west-1:111111111111:repository/devcontainers/images/python',
    'arn:aws:ecr:eu-west-1:222222222222:repository/devcontainers/builds/python',
  ]);
  expect(ecr.Action).toEqual([...IMAGE_RETENTION_ACTIONS]);
});

test.each<[Partial<ImageRetentionProps>, RegExp]>([
  [{ keepDateTags: 0 }, /keepDateTags must be a whole number from 1 to 10000, not 0/],
  [{ keepDateTags: 2.5 }, /keepDateTags must be a whole number from 1 to 10000, not 2.5/],
  [{ keepDateTags: 100_000 }, /keepDateTags must be a whole number from 1 to 10000, not 100000/],
  [{ stagingMaxAgeDays: -1 }, /stagingMaxAgeDays must be a whole number from 1 to 3650, not -1/],
  [{ stagingMaxAgeDays: Number.NaN }, /stagingMaxAgeDays must be a whole number from 1 to 3650, not NaN/],
  [{ releaseRepository: 'Devcontainers/Images' }, /releaseRepository 'Devcontainers\/Images' is not an ECR repository name/],
  [{ stagingRepository: 'devcontainers/images/python' }, /both 'devcontainers\/images\/python'.*repository of their own/],
  [{ registryHost: '' }, /registryHost must not be empty/],
])('bad props %j throw ImagePipelinePropsError at synthesis', (props, message) => {
  expect(() => retentionIn(props)).toThrow(ImagePipelinePropsError);
  expect(() => retentionIn(props)).toThrow(message);
});

test.each([
  ['an environment-agnostic stack', undefined],
  ['a stack with an account and region', { account: '123456789012', region: 'eu-west-1' }],
])('%s is clean under cdk-nag AwsSolutionsChecks', (_name, env) => {
  // GIVEN
  const app = new App();
  const stack = new Stack(app, 'Stack', { env });
  new ImageRetention(stack, 'Retention', { ...BASE, schedule: events.Schedule.rate(Duration.hours(12)) });
  // WHEN the checks run at synthesis
  Validations.of(app).addPlugins(new AwsSolutionsChecks(app));
  // THEN every finding is fixed or acknowledged with its reason
  expect(() => app.synth()).not.toThrow();
});

describe('the release lock Retention and Release share', () => {
  test('GIVEN no lockTable WHEN synthesized THEN a table keyed by the string lock, on demand, encrypted, with time to live, whose name the function gets', () => {
    const { template } = retentionIn();
    template.resourceCountIs('AWS::DynamoDB::Table', 1);
    template.hasResourceProperties('AWS::DynamoDB::Table', {
      KeySchema: [{ AttributeName: 'lock', KeyType: 'HASH' }],
      AttributeDefinitions: [{ AttributeName: 'lock', AttributeType: 'S' }],
      BillingMode: 'PAY_PER_REQUEST',
      SSESpecification: { SSEEnabled: true },
      TimeToLiveSpecification: { AttributeName: 'ttl', Enabled: true },
    });
    template.hasResourceProperties('AWS::Lambda::Function', {
      Environment: { Variables: Match.objectLike({ DCF_RELEASE_LOCK_TABLE: { Ref: Match.stringLikeRegexp('RetentionLockTable') } }) },
    });
  });

  test('GIVEN the role WHEN synthesized THEN it may only put and delete the lock items of its two repositories', () => {
    const { template } = retentionIn();
    const dynamo = statements(template).filter((s) => [s.Action].flat().some((a) => a.startsWith('dynamodb:')));
    expect(dynamo).toEqual([
      {
        Effect: 'Allow',
        Action: ['dynamodb:PutItem', 'dynamodb:DeleteItem'],
        Resource: { 'Fn::GetAtt': [expect.stringMatching(/^RetentionLockTable/), 'Arn'] },
        Condition: { 'ForAllValues:StringEquals': { 'dynamodb:LeadingKeys': [`${HOST}/devcontainers/images/python`, `${HOST}/devcontainers/builds/python`] } },
      },
    ]);
  });

  test('GIVEN grantLock WHEN given another role THEN that role gets the same two actions on the same items', () => {
    const stack = new Stack(new App(), 'Stack', { env: { account: '123456789012', region: 'eu-west-1' } });
    const retention = new ImageRetention(stack, 'Retention', BASE);
    const other = new iam.Role(stack, 'Other', { assumedBy: new iam.ServicePrincipal('lambda.amazonaws.com') });
    retention.grantLock(other);
    const policies = Template.fromStack(stack).findResources('AWS::IAM::Policy', { Properties: { Roles: [{ Ref: Match.stringLikeRegexp('^Other') }] } });
    const granted = Object.values(policies).flatMap((p) => p.Properties.PolicyDocument.Statement);
    expect(granted).toEqual([
      expect.objectContaining({
        Action: ['dynamodb:PutItem', 'dynamodb:DeleteItem'],
        Condition: { 'ForAllValues:StringEquals': { 'dynamodb:LeadingKeys': [`${HOST}/devcontainers/images/python`, `${HOST}/devcontainers/builds/python`] } },
      }),
    ]);
  });
});
