import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { App, CfnOutput, RemovalPolicy, Stack, Validations, type CfnElement } from 'aws-cdk-lib';
import { Annotations, Match, Template } from 'aws-cdk-lib/assertions';
import * as ecr from 'aws-cdk-lib/aws-ecr';
import * as kms from 'aws-cdk-lib/aws-kms';
import * as logs from 'aws-cdk-lib/aws-logs';
import * as s3 from 'aws-cdk-lib/aws-s3';
import { AwsSolutionsChecks } from 'cdk-nag';
import type { IConstruct } from 'constructs';
import { FactoryError, pipelineName } from '@devcontainer-factory/core';
import { Warehouse } from '@devcontainer-factory/warehouse';
import { ImagePipeline, ImagePipelinePropsError, type ImagePipelineProps } from '../src';
import { cfnText, isEcrWrite, roleStatements } from './template-text';
import { cfnLintErrors } from '@devcontainer-factory/testing';

// The image pipeline alone, in a team's own app: its own bucket, key and repository, no warehouse.

const ENV = { account: '123456789012', region: 'eu-west-1' };
const logicalId = (c: IConstruct) => Stack.of(c).getLogicalId(c.node.defaultChild as CfnElement);

/** A fresh stack with a team's own versioned, KMS-encrypted bucket and its release repository. */
function teamStack(app = new App()) {
  const stack = new Stack(app, 'Team', { env: ENV });
  const encryptionKey = new kms.Key(stack, 'Key', { enableKeyRotation: true });
  const sourceBucket = new s3.Bucket(stack, 'Source', {
    encryptionKey,
    versioned: true,
    enforceSSL: true,
    blockPublicAccess: s3.BlockPublicAccess.BLOCK_ALL,
    serverAccessLogsPrefix: 'access-logs/',
  });
  const repository = new ecr.Repository(stack, 'Repository', {
    repositoryName: 'team/images/python',
    imageScanOnPush: true,
    encryption: ecr.RepositoryEncryption.KMS,
  });
  return { app, stack, encryptionKey, sourceBucket, repository };
}

function pipelineIn(props: Partial<ImagePipelineProps> = {}) {
  const team = teamStack();
  const imagePipeline = new ImagePipeline(team.stack, 'Python', {
    imageId: 'python',
    namespace: 'team',
    sourceBucket: team.sourceBucket,
    repository: team.repository,
    ...props,
  });
  return { ...team, imagePipeline, template: Template.fromStack(team.stack) };
}

describe('own bucket, key and repository, no warehouse', () => {
  test('GIVEN a team bucket, key and repository THEN the image pipeline synthesizes on them and its source rule watches that bucket', () => {
    // GIVEN / WHEN
    const { imagePipeline, template, sourceBucket } = pipelineIn();

    // THEN
    template.resourceCountIs('AWS::CodePipeline::Pipeline', 1);
    template.hasResourceProperties('AWS::CodePipeline::Pipeline', { Name: pipelineName('team', 'image', 'python') });
    const [rule] = Object.values(template.findResources('AWS::Events::Rule')).filter((r) => r.Properties.EventPattern?.source?.[0] === 'aws.s3');
    expect(rule.Properties.EventPattern.detail.object).toEqual({ key: ['team/images/python.zip'] });
    expect(rule.Properties.EventPattern.detail.bucket.name).toEqual([{ Ref: logicalId(sourceBucket) }]);
    expect(Template.fromStack(Stack.of(imagePipeline)).findResources('AWS::SSM::Parameter')).toEqual({});
  });

  test('GIVEN a bucket of the app THEN its EventBridge notifications are switched on and there is no warning', () => {
    const { stack, template, sourceBucket } = pipelineIn();
    template.hasResourceProperties('AWS::S3::Bucket', { NotificationConfiguration: { EventBridgeConfiguration: { EventBridgeEnabled: true } } });
    expect(template.findResources('AWS::S3::Bucket', { Properties: { NotificationConfiguration: Match.anyValue() } })).toHaveProperty(logicalId(sourceBucket));
    expect(Annotations.fromStack(stack).findWarning('*', Match.stringLikeRegexp('EventBridge'))).toEqual([]);
  });

  test('GIVEN an imported bucket THEN a warning on the pipeline says to switch its EventBridge notifications on', () => {
    const team = teamStack();
    const imported = s3.Bucket.fromBucketAttributes(team.stack, 'Imported', { bucketName: 'team-configs', encryptionKey: team.encryptionKey });
    new ImagePipeline(team.stack, 'Python', { imageId: 'python', sourceBucket: imported, repository: team.repository });
    Annotations.fromStack(team.stack).hasWarning('/Team/Python/Resources', Match.stringLikeRegexp('is imported: make sure it sends events to EventBridge'));
  });

  test("GIVEN the team's repository THEN the Release role is the only one that can write, and only to that repository", () => {
    // GIVEN / WHEN
    const { imagePipeline, template, repository } = pipelineIn();
    const repositoryArn = `<${logicalId(repository)}.Arn>`;

    // THEN Release pushes to the given repository by its own ARN, and to nothing else
    const release = roleStatements(template, logicalId(imagePipeline.releaseFunction.role!));
    const writes = release.filter((s) => s.actions.some(isEcrWrite));
    expect(writes.flatMap((s) => s.resources)).toEqual([repositoryArn]);
    // and no other role of the pipeline can write it
    const roles = Object.keys(template.findResources('AWS::IAM::Role')).filter((id) => id !== logicalId(imagePipeline.releaseFunction.role!));
    expect(roles.length).toBeGreaterThanOrEqual(8);
    for (const role of roles) {
      const statements = roleStatements(template, role).filter((s) => s.actions.some(isEcrWrite));
      expect(statements.flatMap((s) => s.resources).filter((r) => r === repositoryArn || r === '*')).toEqual([]);
    }
  });

  test('GIVEN no stagingRepository THEN the pipeline creates one, KMS-encrypted, scanned on push, every build expiring by age, retained', () => {
    // GIVEN / WHEN
    const { imagePipeline, template } = pipelineIn();

    // THEN
    expect(imagePipeline.createdStagingRepository).toBeDefined();
    const staging = logicalId(imagePipeline.createdStagingRepository!);
    template.resourceCountIs('AWS::ECR::Repository', 2);
    template.hasResource('AWS::ECR::Repository', {
      Properties: {
        EncryptionConfiguration: { EncryptionType: 'KMS' },
        ImageScanningConfiguration: { ScanOnPush: true },
        LifecyclePolicy: {
          LifecyclePolicyText: Match.serializedJson({
            rules: [
              Match.objectLike({
                selection: { tagStatus: 'any', countType: 'sinceImagePushed', countUnit: 'days', countNumber: 14 },
                action: { type: 'expire' },
              }),
            ],
          }),
        },
      },
      DeletionPolicy: 'Retain',
    });
    expect(template.findResources('AWS::ECR::Repository')[staging].Properties.RepositoryName).toBeUndefined();
    // Build pushes there, by the repository's own ARN
    const build = roleStatements(template, logicalId(imagePipeline.buildRole));
    expect(build.filter((s) => s.actions.some(isEcrWrite)).flatMap((s) => s.resources)).toEqual([`<${staging}.Arn>`]);
  });

  test('GIVEN removalPolicy DESTROY THEN what the pipeline creates is destroyed, the staging repository emptied first', () => {
    const { template, imagePipeline } = pipelineIn({ removalPolicy: RemovalPolicy.DESTROY, retention: { stagingMaxAgeDays: 3 } });
    const staging = template.findResources('AWS::ECR::Repository')[logicalId(imagePipeline.createdStagingRepository!)];
    expect(staging.DeletionPolicy).toBe('Delete');
    expect(staging.Properties.EmptyOnDelete).toBe(true);
    expect(staging.Properties.LifecyclePolicy.LifecyclePolicyText).toContain('"countNumber":3');
    template.hasResource('AWS::Logs::LogGroup', { DeletionPolicy: 'Delete' });
    template.hasResource('AWS::S3::Bucket', {
      DeletionPolicy: 'Delete',
      Properties: { LifecycleConfiguration: { Rules: Match.arrayWith([Match.objectLike({ ExpirationInDays: 7 })]) } },
    });
  });

  test('GIVEN no artifactBucket THEN one is created: SSE-KMS with the source key, SSL-only, public access blocked', () => {
    const { template, encryptionKey } = pipelineIn();
    template.hasResourceProperties('AWS::S3::Bucket', {
      BucketEncryption: {
        ServerSideEncryptionConfiguration: [
          {
            BucketKeyEnabled: true,
            ServerSideEncryptionByDefault: { SSEAlgorithm: 'aws:kms', KMSMasterKeyID: { 'Fn::GetAtt': [logicalId(encryptionKey), 'Arn'] } },
          },
        ],
      },
      PublicAccessBlockConfiguration: { BlockPublicAcls: true, BlockPublicPolicy: true, IgnorePublicAcls: true, RestrictPublicBuckets: true },
      LifecycleConfiguration: { Rules: Match.arrayWith([Match.objectLike({ Id: 'expire-artifacts', ExpirationInDays: 7 })]) },
    });
    template.hasResourceProperties('AWS::S3::BucketPolicy', {
      PolicyDocument: { Statement: Match.arrayWith([Match.objectLike({ Effect: 'Deny', Condition: { Bool: { 'aws:SecureTransport': 'false' } } })]) },
    });
  });

  test('GIVEN an artifactBucket and a stagingRepository THEN the pipeline creates neither', () => {
    const team = teamStack();
    const artifactBucket = new s3.Bucket(team.stack, 'Artifacts', { encryptionKey: team.encryptionKey, enforceSSL: true });
    const stagingRepository = new ecr.Repository(team.stack, 'Staging');
    const imagePipeline = new ImagePipeline(team.stack, 'Python', {
      imageId: 'python',
      sourceBucket: team.sourceBucket,
      repository: team.repository,
      stagingRepository,
      artifactBucket,
    });
    const template = Template.fromStack(team.stack);
    template.resourceCountIs('AWS::ECR::Repository', 2);
    template.resourceCountIs('AWS::S3::Bucket', 2); // the source and the given artifact bucket
    expect(imagePipeline.createdStagingRepository).toBeUndefined();
    expect(imagePipeline.stagingRepositoryName).toBe(stagingRepository.repositoryName);
    template.hasResourceProperties('AWS::CodePipeline::Pipeline', { ArtifactStore: { Location: { Ref: logicalId(artifactBucket) } } });
  });

  test('GIVEN a logGroup THEN every Lambda and project logs there and the pipeline creates none', () => {
    const team = teamStack();
    const logGroup = new logs.LogGroup(team.stack, 'TeamLogs', { retention: logs.RetentionDays.ONE_MONTH });
    new ImagePipeline(team.stack, 'Python', { imageId: 'python', sourceBucket: team.sourceBucket, repository: team.repository, logGroup });
    const template = Template.fromStack(team.stack);
    template.resourceCountIs('AWS::Logs::LogGroup', 1);
    const functions = Object.values(template.findResources('AWS::Lambda::Function'));
    expect(functions.length).toBeGreaterThanOrEqual(4);
    for (const fn of functions) expect(fn.Properties.LoggingConfig.LogGroup).toEqual({ Ref: logicalId(logGroup) });
  });

  test('GIVEN logRetention THEN the created log group keeps events that long', () => {
    pipelineIn({ logRetention: logs.RetentionDays.ONE_WEEK }).template.hasResourceProperties('AWS::Logs::LogGroup', { RetentionInDays: 7 });
  });
});

describe('pipelineName', () => {
  test('GIVEN a pipelineName THEN the pipeline, its artifact prefix and its refresh schedule use it', () => {
    const { template, imagePipeline } = pipelineIn({ pipelineName: 'team-python@main' });
    template.hasResourceProperties('AWS::CodePipeline::Pipeline', { Name: 'team-python@main' });
    template.hasResourceProperties('AWS::Scheduler::Schedule', { Name: 'team-python_main-refresh' });
    const build = roleStatements(template, logicalId(imagePipeline.buildRole));
    expect(build.flatMap((s) => s.resources).some((r) => r.endsWith('/team-python@main/*'))).toBe(true);
  });

  test('GIVEN the artifact bucket that CDK grants read-write THEN the pipeline role reads and writes only its own artifact prefix', () => {
    const { template, imagePipeline } = pipelineIn({ pipelineName: 'team-python@main' });
    const s3Resources = roleStatements(template, logicalId(imagePipeline.pipeline.role))
      .filter((s) => s.actions.some((a) => a.startsWith('s3:')))
      .flatMap((s) => s.resources);
    // Object grants end in a key pattern; the Source action's grant is its one key.
    const patterns = s3Resources.filter((r) => r.endsWith('*'));
    expect(patterns.length).toBeGreaterThan(0);
    expect(patterns.filter((r) => !r.endsWith('/team-python@main/*'))).toEqual([]);
  });

  test('GIVEN two pipelines of one namespace whose names share their first 20 characters THEN the second is refused', () => {
    const team = teamStack();
    new ImagePipeline(team.stack, 'Python', {
      imageId: 'python',
      namespace: 'team',
      sourceBucket: team.sourceBucket,
      repository: team.repository,
      pipelineName: 'team-images-python-main-a',
    });
    const other = new ecr.Repository(team.stack, 'NodeRepository', { repositoryName: 'team/images/node' });
    const make = () =>
      new ImagePipeline(team.stack, 'Node', {
        imageId: 'node',
        namespace: 'team',
        sourceBucket: team.sourceBucket,
        repository: other,
        pipelineName: 'team-images-python-main-b',
      });
    expect(make).toThrow(
      /pipelineName 'team-images-python-main-b' starts with the same 20 characters as the pipeline 'team-images-python-main-a' of namespace 'team' \('team-images-python-m'\)/,
    );
  });

  test.each([
    ['too long', 'p'.repeat(101), /^Team\/Python: pipelineName 'p+' is not a CodePipeline name: use 1 to 100 characters .*\(it has 101\)$/],
    ['a bad character', 'team/python', /^Team\/Python: pipelineName 'team\/python' is not a CodePipeline name/],
    ['empty', '', /^Team\/Python: pipelineName '' is not a CodePipeline name/],
  ])('GIVEN a pipelineName that is %s THEN ImagePipelinePropsError names the path and the rule', (_name, pipelineName, message) => {
    const make = () => pipelineIn({ pipelineName });
    expect(make).toThrow(ImagePipelinePropsError);
    expect(make).toThrow(message);
  });
});

describe('missing or inconsistent props', () => {
  const invalid =
    (props: Partial<ImagePipelineProps>, withRepository = true) =>
    () => {
      const team = teamStack();
      new ImagePipeline(team.stack, 'Python', {
        imageId: 'python',
        ...(withRepository ? { repository: team.repository } : {}),
        ...props,
      } as ImagePipelineProps);
    };

  test('the props errors are FactoryErrors', () => {
    expect(new ImagePipelinePropsError('x')).toBeInstanceOf(FactoryError);
    expect(new ImagePipelinePropsError('x').name).toBe('ImagePipelinePropsError');
  });

  test('GIVEN neither a warehouse nor a source bucket THEN the error names the path and both ways', () => {
    const make = () => new ImagePipeline(new Stack(new App(), 'Team'), 'Python', { imageId: 'python' });
    expect(make).toThrow(ImagePipelinePropsError);
    expect(make).toThrow(
      /^Team\/Python: warehouse or sourceBucket is missing: pass the namespace's warehouse, e.g. Warehouse.fromNamespace\(this, 'Warehouse', 'devcontainers'\), or your own sourceBucket .* and repository$/,
    );
  });

  test('GIVEN a repository but no source bucket THEN the error says what alone is not enough', () => {
    expect(invalid({})).toThrow(/^Team\/Python: warehouse or sourceBucket is missing \(repository alone is not enough\)/);
  });

  test('GIVEN a warehouse and own resources THEN the error says to pass one or the other', () => {
    const team = teamStack();
    const warehouse = Warehouse.fromNamespace(team.stack, 'Warehouse', 'team');
    const make = () => new ImagePipeline(team.stack, 'Python', { imageId: 'python', warehouse, sourceBucket: team.sourceBucket, repository: team.repository });
    expect(make).toThrow(/^Team\/Python: both warehouse and sourceBucket, repository are given: pass either a warehouse or your own resources/);
  });

  test("GIVEN a namespace other than the warehouse's THEN the error names both", () => {
    const stack = new Stack(new App(), 'Team');
    const warehouse = Warehouse.fromNamespace(stack, 'Warehouse', 'team');
    expect(() => new ImagePipeline(stack, 'Python', { imageId: 'python', warehouse, namespace: 'other' })).toThrow(
      /^Team\/Python: namespace 'other' differs from the warehouse's namespace 'team'/,
    );
  });

  test('GIVEN a source bucket without a repository THEN the error says to pass the release repository', () => {
    const make = () => {
      const team = teamStack();
      new ImagePipeline(team.stack, 'Python', { imageId: 'python', sourceBucket: team.sourceBucket });
    };
    expect(make).toThrow(/^Team\/Python: repository is missing: with your own sourceBucket, pass the ECR repository Release writes/);
  });

  test('GIVEN a stagingRepository without a repository THEN the error says to pass the release repository', () => {
    const make = () => {
      const team = teamStack();
      new ImagePipeline(team.stack, 'Python', { imageId: 'python', sourceBucket: team.sourceBucket, stagingRepository: team.repository });
    };
    expect(make).toThrow(/^Team\/Python: stagingRepository is given without repository/);
  });

  test('GIVEN a source bucket without a key THEN the error says to pass encryptionKey', () => {
    const make = () => {
      const team = teamStack();
      const bare = s3.Bucket.fromBucketName(team.stack, 'Bare', 'team-configs');
      new ImagePipeline(team.stack, 'Python', { imageId: 'python', sourceBucket: bare, repository: team.repository });
    };
    expect(make).toThrow(/^Team\/Python: the source bucket Team\/Bare has no encryptionKey the pipeline could decrypt with: pass encryptionKey/);
  });

  test('GIVEN an artifact bucket with another key THEN the error says the stages decrypt both with one key', () => {
    const make = () => {
      const team = teamStack();
      const artifactBucket = new s3.Bucket(team.stack, 'Artifacts', { encryptionKey: new kms.Key(team.stack, 'OtherKey', { enableKeyRotation: true }) });
      new ImagePipeline(team.stack, 'Python', { imageId: 'python', sourceBucket: team.sourceBucket, repository: team.repository, artifactBucket });
    };
    expect(make).toThrow(/^Team\/Python: artifactBucket is encrypted with Team\/OtherKey, the source objects with Team\/Key/);
  });

  test('GIVEN logGroup and logRetention THEN the error says logRetention is for the created log group', () => {
    const make = () => {
      const team = teamStack();
      new ImagePipeline(team.stack, 'Python', {
        imageId: 'python',
        sourceBucket: team.sourceBucket,
        repository: team.repository,
        logGroup: new logs.LogGroup(team.stack, 'L'),
        logRetention: logs.RetentionDays.ONE_DAY,
      });
    };
    expect(make).toThrow(/^Team\/Python: logRetention applies only to the log group the pipeline creates/);
  });

  test('GIVEN a bad computeSize THEN the error names the construct path too', () => {
    expect(() => pipelineIn({ computeSize: 'huge' as never })).toThrow(/^Team\/Python: computeSize 'huge' is unknown/);
  });
});

describe('a reusable construct', () => {
  test('GIVEN an ImagePipeline in a plain Stack THEN its tree holds no CfnOutput and it sets no context', () => {
    const { imagePipeline, stack } = pipelineIn({ dependsOn: ['base'], usesFeatures: ['hello'] });
    expect(imagePipeline.node.findAll().filter((c) => c instanceof CfnOutput)).toEqual([]);
    expect(stack.node.findAll().filter((c) => c instanceof CfnOutput)).toEqual([]);
    expect(Template.fromStack(stack).toJSON().Outputs).toBeUndefined();
    for (const c of imagePipeline.node.findAll()) expect(Object.keys((c.node as unknown as { _context: object })._context ?? {})).toEqual([]);
  });

  test('GIVEN the own-resources stack THEN it is clean under cdk-nag AwsSolutionsChecks', () => {
    const team = teamStack(new App({ context: { '@aws-cdk/core:enablePartitionLiterals': true, '@aws-cdk/aws-iam:minimizePolicies': true } }));
    new ImagePipeline(team.stack, 'Python', { imageId: 'python', sourceBucket: team.sourceBucket, repository: team.repository, dependsOn: ['base'] });
    Validations.of(team.app).addPlugins(new AwsSolutionsChecks(team.app));
    expect(() => team.app.synth()).not.toThrow();
  });

  test('GIVEN the own-resources stack THEN cfn-lint finds no error in its template', () => {
    const outdir = mkdtempSync(join(tmpdir(), 'own-resources-'));
    try {
      const team = teamStack(new App({ outdir }));
      new ImagePipeline(team.stack, 'Python', { imageId: 'python', sourceBucket: team.sourceBucket, repository: team.repository, usesFeatures: ['hello'] });
      const assembly = team.app.synth();
      expect(cfnLintErrors([join(outdir, assembly.getStackByName('Team').templateFile)])).toEqual([]);
    } finally {
      rmSync(outdir, { recursive: true, force: true });
    }
  }, 180_000);

  test('cfnText reads the repository ARN as the GetAtt of the given repository', () => {
    const { repository, stack } = pipelineIn();
    expect(cfnText(stack.resolve(repository.repositoryArn))).toBe(`<${logicalId(repository)}.Arn>`);
  });
});

describe('a resource of another account or region', () => {
  test.each([
    [
      'repository',
      (s: Stack) => ecr.Repository.fromRepositoryArn(s, 'Other', 'arn:aws:ecr:eu-west-1:210987654321:repository/team/images/python'),
      /repository is in account 210987654321, and this stack deploys to account 123456789012/,
    ],
    [
      'repository',
      (s: Stack) => ecr.Repository.fromRepositoryArn(s, 'Other', 'arn:aws:ecr:us-east-1:123456789012:repository/team/images/python'),
      /repository is in region us-east-1, and this stack deploys to region eu-west-1/,
    ],
  ])('GIVEN a %s of another environment THEN the pipeline refuses it at synth, saying why', (_what, make, message) => {
    const team = teamStack();
    const repository = make(team.stack);
    let n = 0;
    const attempt = () => new ImagePipeline(team.stack, `Python${n++}`, { imageId: 'python', namespace: 'team', sourceBucket: team.sourceBucket, repository });
    expect(attempt).toThrow(ImagePipelinePropsError);
    expect(attempt).toThrow(message);
    expect(attempt).toThrow(/^Team\/Python\d*: .*Retention's registry host are this stack's/);
  });

  test('GIVEN an imported repository in a stack of no fixed account THEN a CloudFormation rule fails the deploy anywhere else, with the reason', () => {
    const stack = new Stack(new App(), 'Agnostic');
    const encryptionKey = new kms.Key(stack, 'Key', { enableKeyRotation: true });
    const sourceBucket = new s3.Bucket(stack, 'Source', { encryptionKey, versioned: true, enforceSSL: true });
    const repository = ecr.Repository.fromRepositoryArn(stack, 'Repo', 'arn:aws:ecr:eu-west-1:210987654321:repository/team/images/python');
    new ImagePipeline(stack, 'Python', { imageId: 'python', namespace: 'team', sourceBucket, repository });
    const rules = Template.fromStack(stack).toJSON().Rules as Record<string, { Assertions: { Assert: unknown; AssertDescription: string }[] }>;
    const assertions = Object.values(rules ?? {}).flatMap((r) => r.Assertions);
    expect(assertions).toEqual(
      expect.arrayContaining([
        {
          Assert: { 'Fn::Equals': [{ Ref: 'AWS::AccountId' }, '210987654321'] },
          AssertDescription: expect.stringContaining('repository is in account 210987654321'),
        },
        { Assert: { 'Fn::Equals': [{ Ref: 'AWS::Region' }, 'eu-west-1'] }, AssertDescription: expect.stringContaining('repository is in region eu-west-1') },
      ]),
    );
  });

  test('GIVEN only resources of the stack itself THEN no rule is added', () => {
    const { template } = pipelineIn();
    expect(Object.keys(template.toJSON().Rules ?? {})).toEqual(['CheckBootstrapVersion']);
  });
});
