import { App, Stack, Validations } from 'aws-cdk-lib';
import { Annotations, Match, Template } from 'aws-cdk-lib/assertions';
import * as iam from 'aws-cdk-lib/aws-iam';
import * as kms from 'aws-cdk-lib/aws-kms';
import * as s3 from 'aws-cdk-lib/aws-s3';
import { AwsSolutionsChecks } from 'cdk-nag';
import { pipelineName } from '@devcontainer-factory/core';
import { Warehouse, WarehousePropsError, WarehouseStack } from '../src';

const ACCOUNT = '123456789012';
const env = { account: ACCOUNT, region: 'eu-west-1' };

/** Every object change the source bucket keeps to its granted writers. */
const CHANGES = [
  's3:PutObject',
  's3:PutObjectAcl',
  's3:PutObjectVersionAcl',
  's3:PutObjectTagging',
  's3:PutObjectVersionTagging',
  's3:DeleteObject',
  's3:DeleteObjectVersion',
  's3:DeleteObjectTagging',
  's3:DeleteObjectVersionTagging',
  's3:AbortMultipartUpload',
  's3:ReplicateObject',
  's3:ReplicateDelete',
];

function withWarehouse(namespace = 'devcontainers') {
  // Partition literals, as in the factory app: ARNs of a concrete environment are plain strings.
  const stack = new Stack(new App({ context: { '@aws-cdk/core:enablePartitionLiterals': true } }), 'Warehouse', { env });
  const warehouse = new Warehouse(stack, 'Warehouse', { namespace });
  return { stack, warehouse };
}

/** The statement of the source bucket's policy that keeps configurations to the granted writers. */
function writersStatement(stack: Stack): Record<string, unknown> {
  const template = Template.fromStack(stack);
  const [source] = Object.keys(template.findResources('AWS::S3::Bucket', { Properties: { VersioningConfiguration: { Status: 'Enabled' } } }));
  const policy = Object.values(template.findResources('AWS::S3::BucketPolicy')).find((p) => p.Properties.Bucket.Ref === source)!;
  const found = policy.Properties.PolicyDocument.Statement.filter((s: { Sid?: string }) => s.Sid === 'OnlyGrantedPushersChangeConfigurations');
  expect(found).toHaveLength(1);
  return found[0];
}

/** The statements of the policies attached to the role named `roleName`. */
function policyOf(stack: Stack, roleName: string): Array<{ Action: string | string[]; Resource: unknown; Condition?: unknown }> {
  return Object.values(Template.fromStack(stack).findResources('AWS::IAM::Policy'))
    .filter((p) => JSON.stringify(p.Properties.Roles ?? p.Properties.Users).includes(roleName))
    .flatMap((p) => p.Properties.PolicyDocument.Statement);
}

describe('the source bucket takes configurations only from principals granted push', () => {
  test('with nobody granted, its policy denies every change of every object to every principal', () => {
    // GIVEN / WHEN a warehouse nobody was granted push on
    const { stack } = withWarehouse();
    // THEN one Deny statement, with no condition that lets anyone through, on the objects only
    expect(writersStatement(stack)).toEqual({
      Sid: 'OnlyGrantedPushersChangeConfigurations',
      Effect: 'Deny',
      Principal: '*',
      Action: CHANGES,
      Resource: { 'Fn::Join': ['', [{ 'Fn::GetAtt': [expect.stringMatching(/^WarehouseSourceBucket/), 'Arn'] }, '/*']] },
    });
  });

  test("only object changes are denied: the bucket, its policy among it, stays the deployment role's", () => {
    const { stack } = withWarehouse();
    const statement = writersStatement(stack) as { Action: string[]; Resource: unknown };
    expect(statement.Action.every((a) => /Object|MultipartUpload|Replicate/.test(a))).toBe(true);
    expect(statement.Action).not.toEqual(expect.arrayContaining(['s3:PutBucketPolicy']));
    expect(JSON.stringify(statement.Resource)).toContain('/*');
  });

  test('grantPushConfigurations lets each granted role through by aws:PrincipalArn, each once', () => {
    // GIVEN a warehouse and two roles, one of them with a path
    const { stack, warehouse } = withWarehouse();
    const ci = iam.Role.fromRoleArn(stack, 'Ci', `arn:aws:iam::${ACCOUNT}:role/platform/ci`);
    const alice = iam.User.fromUserArn(stack, 'Alice', `arn:aws:iam::${ACCOUNT}:user/alice`);
    // WHEN both are granted push, the role twice
    warehouse.grantPushConfigurations(ci);
    warehouse.grantPushConfigurations(alice);
    warehouse.grantPushConfigurations(ci);
    // THEN the Deny names both ARNs (a role's with its path: that is what aws:PrincipalArn is for its sessions)
    expect(writersStatement(stack).Condition).toEqual({
      ArnNotLike: { 'aws:PrincipalArn': [`arn:aws:iam::${ACCOUNT}:role/platform/ci`, `arn:aws:iam::${ACCOUNT}:user/alice`] },
    });
  });

  test('a role of the app is let through by its ARN attribute', () => {
    const { stack, warehouse } = withWarehouse();
    const role = new iam.Role(stack, 'Pusher', { assumedBy: new iam.AccountRootPrincipal() });
    warehouse.grantPushConfigurations(role);
    expect(writersStatement(stack).Condition).toEqual({ ArnNotLike: { 'aws:PrincipalArn': [{ 'Fn::GetAtt': [expect.stringMatching(/^Pusher/), 'Arn'] }] } });
  });

  test('grantWriteSource lets its grantee through too, and still grants the upload of its key', () => {
    const { stack, warehouse } = withWarehouse();
    const role = iam.Role.fromRoleArn(stack, 'Writer', `arn:aws:iam::${ACCOUNT}:role/writer`);
    warehouse.grantWriteSource(role, 'image', 'python');
    expect(writersStatement(stack).Condition).toEqual({ ArnNotLike: { 'aws:PrincipalArn': [`arn:aws:iam::${ACCOUNT}:role/writer`] } });
    const put = policyOf(stack, 'writer').find((s) => [s.Action].flat().includes('s3:PutObject'))!;
    expect(JSON.stringify(put.Resource)).toContain('/devcontainers/images/python.zip');
  });
});

describe('grantPushConfigurations', () => {
  test('grants exactly what dcf push, dcf status and dcf list call, each on the narrowest resource', () => {
    // GIVEN a warehouse of namespace acme and a pusher role of the account
    const { stack, warehouse } = withWarehouse('acme');
    const role = iam.Role.fromRoleArn(stack, 'Pusher', `arn:aws:iam::${ACCOUNT}:role/pusher`);
    // WHEN it is granted push
    const grant = warehouse.grantPushConfigurations(role);
    // THEN the grant succeeded, with these statements and no other
    expect(grant.success).toBe(true);
    const stmts = policyOf(stack, 'pusher');
    const text = (v: unknown) => JSON.stringify(Stack.of(stack).resolve(v));
    const byActions = Object.fromEntries(stmts.map((s) => [[s.Action].flat().sort().join(' '), { resource: text(s.Resource), condition: s.Condition }]));
    const hash = (kind: 'image' | 'feature') => pipelineName('acme', kind, 'x').replace(/^dcf-([0-9a-f]+)-.*$/, '$1');
    expect(hash('image')).toMatch(/^[0-9a-f]{8,}$/);
    const lead = '?'.repeat(hash('image').length);
    expect(Object.keys(byActions).sort()).toEqual(
      [
        's3:AbortMultipartUpload s3:PutObject',
        's3:GetObject',
        's3:ListBucket',
        'kms:Decrypt kms:GenerateDataKey',
        'ssm:GetParameters',
        'codepipeline:ListPipelines',
        'codepipeline:GetPipelineExecution codepipeline:GetPipelineState codepipeline:ListActionExecutions codepipeline:ListPipelineExecutions',
        'ecr:DescribeRepositories',
        'ecr:DescribeImages',
      ].sort(),
    );
    for (const s3Actions of ['s3:AbortMultipartUpload s3:PutObject', 's3:GetObject']) {
      expect(byActions[s3Actions].resource).toContain('/acme/images/*.zip');
      expect(byActions[s3Actions].resource).toContain('/acme/features/*.zip');
    }
    expect(byActions['kms:Decrypt kms:GenerateDataKey']).toEqual({
      resource: expect.stringContaining('S3Key'),
      condition: { StringEquals: { 'kms:ViaService': { 'Fn::Join': ['', ['s3.eu-west-1.', { Ref: 'AWS::URLSuffix' }]] } } },
    });
    expect(byActions['ssm:GetParameters'].resource).toBe('"arn:aws:ssm:eu-west-1:123456789012:parameter/acme/factory/*"');
    expect(byActions['codepipeline:ListPipelines'].resource).toBe('"*"');
    expect(
      JSON.parse(
        byActions['codepipeline:GetPipelineExecution codepipeline:GetPipelineState codepipeline:ListActionExecutions codepipeline:ListPipelineExecutions']
          .resource,
      ).sort(),
    ).toEqual([
      `arn:aws:codepipeline:eu-west-1:123456789012:dcf-${lead}-acme-feature-*`,
      `arn:aws:codepipeline:eu-west-1:123456789012:dcf-${lead}-acme-image-*`,
    ]);
    expect(byActions['ecr:DescribeRepositories'].resource).toBe('"arn:aws:ecr:eu-west-1:123456789012:repository/*"');
    expect(JSON.parse(byActions['ecr:DescribeImages'].resource).sort()).toEqual([
      'arn:aws:ecr:eu-west-1:123456789012:repository/acme/features/*',
      'arn:aws:ecr:eu-west-1:123456789012:repository/acme/images/*',
    ]);
  });

  test("the pipeline patterns match the namespace's pipelines, not another namespace's", () => {
    const { stack, warehouse } = withWarehouse('acme');
    warehouse.grantPushConfigurations(iam.Role.fromRoleArn(stack, 'Pusher', `arn:aws:iam::${ACCOUNT}:role/pusher`));
    const reads = policyOf(stack, 'pusher').find((s) => [s.Action].flat().includes('codepipeline:GetPipelineState'))!;
    const patterns = (reads.Resource as string[]).map((p) => new RegExp(`^${p.split(':').pop()!.replace(/\?/g, '.').replace(/\*/g, '.*')}$`));
    const matches = (name: string) => patterns.some((p) => p.test(name));
    expect(matches(pipelineName('acme', 'image', 'python'))).toBe(true);
    expect(matches(pipelineName('acme', 'feature', 'hello'))).toBe(true);
    expect(matches(pipelineName('team-acme', 'image', 'python'))).toBe(false);
    expect(matches(pipelineName('acmes', 'image', 'python'))).toBe(false);
  });

  test.each<[string, (stack: Stack) => iam.IGrantable, RegExp]>([
    ['the account', () => new iam.AccountRootPrincipal(), /AccountRootPrincipal/],
    ['another account', () => new iam.AccountPrincipal('210987654321'), /AccountPrincipal/],
    ['a service', () => new iam.ServicePrincipal('lambda.amazonaws.com'), /lambda\.amazonaws\.com/],
    ['a bare ArnPrincipal', () => new iam.ArnPrincipal(`arn:aws:iam::${ACCOUNT}:role/ci`), /ArnPrincipal/],
    ['an organization', () => new iam.OrganizationPrincipal('o-abc123defg'), /OrganizationPrincipal/],
  ])('refuses %s, which has no role or user ARN, and says what to pass', (_what, principal, named) => {
    const { stack, warehouse } = withWarehouse();
    const call = () => warehouse.grantPushConfigurations(principal(stack));
    expect(call).toThrow(WarehousePropsError);
    expect(call).toThrow(named);
    expect(call).toThrow(
      /is not an IAM role or user.*pass a role or a user, e\.g\. iam\.Role\.fromRoleArn\(this, 'Pusher', 'arn:aws:iam::123456789012:role\/platform-ci'\)/,
    );
  });

  test('refuses a role of another account', () => {
    const { stack, warehouse } = withWarehouse();
    const other = iam.Role.fromRoleArn(stack, 'Other', 'arn:aws:iam::210987654321:role/ci');
    expect(() => warehouse.grantPushConfigurations(other)).toThrow(
      /arn:aws:iam::210987654321:role\/ci is of account 210987654321, the warehouse of account 123456789012/,
    );
  });

  test('grantWriteSource refuses a service principal the same way', () => {
    const { warehouse } = withWarehouse();
    expect(() => warehouse.grantWriteSource(new iam.ServicePrincipal('codebuild.amazonaws.com'), 'image')).toThrow(
      /grantWriteSource: .*is not an IAM role or user/,
    );
  });

  test('a warehouse found by namespace grants the identity part and warns that the bucket policy is not its to change', () => {
    const stack = new Stack(new App(), 'Pipelines', { env });
    const warehouse = Warehouse.fromNamespace(stack, 'Warehouse', 'acme');
    warehouse.grantPushConfigurations(iam.Role.fromRoleArn(stack, 'Pusher', `arn:aws:iam::${ACCOUNT}:role/pusher`));
    expect(policyOf(stack, 'pusher').some((s) => [s.Action].flat().includes('s3:PutObject'))).toBe(true);
    Annotations.fromStack(stack).hasWarning('/Pipelines/Warehouse', Match.stringLikeRegexp('is not a bucket of this app.*-c pushers='));
  });
});

describe("a warehouse of the caller's resources", () => {
  function ownBucket() {
    const stack = new Stack(new App(), 'Team', { env });
    const key = new kms.Key(stack, 'Key', { enableKeyRotation: true });
    const sourceBucket = new s3.Bucket(stack, 'Source', { encryptionKey: key, versioned: true, enforceSSL: true });
    const artifactBucket = new s3.Bucket(stack, 'Artifacts', { encryptionKey: key, enforceSSL: true });
    return { stack, sourceBucket, artifactBucket };
  }
  const statementsOf = (stack: Stack, bucket: s3.Bucket) =>
    Object.values(Template.fromStack(stack).findResources('AWS::S3::BucketPolicy')).find(
      (p) => p.Properties.Bucket.Ref === stack.getLogicalId(bucket.node.defaultChild as s3.CfnBucket),
    )!.Properties.PolicyDocument.Statement as Array<{ Sid?: string; Resource: unknown; Condition?: unknown }>;

  test('leaves a bucket of the app alone until someone is granted push', () => {
    const { stack, sourceBucket, artifactBucket } = ownBucket();
    Warehouse.fromWarehouseAttributes(stack, 'W', { namespace: 'team', sourceBucket, artifactBucket });
    expect(statementsOf(stack, sourceBucket).some((s) => s.Sid === 'OnlyGrantedPushersChangeConfigurations')).toBe(false);
  });

  test("then keeps the namespace's objects, and only those, to the granted writers; views over one bucket share one statement", () => {
    // GIVEN two views of the caller's bucket, as two pipelines of the same app make them
    const { stack, sourceBucket, artifactBucket } = ownBucket();
    const a = Warehouse.fromWarehouseAttributes(stack, 'A', { namespace: 'team', sourceBucket, artifactBucket });
    const b = Warehouse.fromWarehouseAttributes(stack, 'B', { namespace: 'team', sourceBucket, artifactBucket });
    // WHEN each grants push to a role
    a.grantPushConfigurations(iam.Role.fromRoleArn(stack, 'One', `arn:aws:iam::${ACCOUNT}:role/one`));
    b.grantPushConfigurations(iam.Role.fromRoleArn(stack, 'Two', `arn:aws:iam::${ACCOUNT}:role/two`));
    // THEN one Deny on team/* names both
    const lock = statementsOf(stack, sourceBucket).filter((s) => s.Sid === 'OnlyGrantedPushersChangeConfigurations');
    expect(lock).toHaveLength(1);
    expect(JSON.stringify(lock[0].Resource)).toContain('/team/*');
    expect(lock[0].Condition).toEqual({ ArnNotLike: { 'aws:PrincipalArn': [`arn:aws:iam::${ACCOUNT}:role/one`, `arn:aws:iam::${ACCOUNT}:role/two`] } });
  });

  test('an imported bucket gets the identity grant and a warning', () => {
    const stack = new Stack(new App(), 'Team', { env });
    const key = kms.Key.fromKeyArn(stack, 'Key', `arn:aws:kms:eu-west-1:${ACCOUNT}:key/1234abcd-12ab-34cd-56ef-1234567890ab`);
    const w = Warehouse.fromWarehouseAttributes(stack, 'W', {
      namespace: 'team',
      sourceBucket: s3.Bucket.fromBucketAttributes(stack, 'Source', { bucketName: 'team-source', encryptionKey: key }),
      artifactBucket: s3.Bucket.fromBucketName(stack, 'Artifacts', 'team-artifacts'),
    });
    w.grantPushConfigurations(iam.Role.fromRoleArn(stack, 'Pusher', `arn:aws:iam::${ACCOUNT}:role/pusher`));
    Annotations.fromStack(stack).hasWarning('/Team/W', Match.stringLikeRegexp('grantPushConfigurations: the source bucket .*is not a bucket of this app'));
  });
});

test('a WarehouseStack with a granted pusher is clean under cdk-nag, as the factory app synthesizes it', () => {
  // GIVEN the app's flags and a concrete environment
  const app = new App({ context: { '@aws-cdk/core:enablePartitionLiterals': true, '@aws-cdk/aws-iam:minimizePolicies': true } });
  const stack = new WarehouseStack(app, undefined, { namespace: 'acme', env });
  // WHEN a role and a user are granted push
  stack.warehouse.grantPushConfigurations(iam.Role.fromRoleArn(stack, 'Pusher', `arn:aws:iam::${ACCOUNT}:role/ci/pusher`));
  stack.warehouse.grantPushConfigurations(iam.User.fromUserArn(stack, 'Alice', `arn:aws:iam::${ACCOUNT}:user/alice`));
  Validations.of(app).addPlugins(new AwsSolutionsChecks(app));
  // THEN synthesis does not fail: every wildcard of the grant is acknowledged with its reason
  expect(() => app.synth()).not.toThrow();
});
