import { App, CfnOutput, Duration, RemovalPolicy, Stack, Validations } from 'aws-cdk-lib';
import { Match, Template } from 'aws-cdk-lib/assertions';
import * as iam from 'aws-cdk-lib/aws-iam';
import { AwsSolutionsChecks } from 'cdk-nag';
import { Warehouse, WarehouseStack, releaseWriterRolePath } from '../src';

function synth(props: ConstructorParameters<typeof Warehouse>[2] = {}) {
  const stack = new Stack();
  const warehouse = new Warehouse(stack, 'Warehouse', props);
  return { stack, warehouse, template: Template.fromStack(stack) };
}

const sourceBucket = (t: Template) => {
  const [id] = Object.keys(t.findResources('AWS::S3::Bucket', { Properties: { VersioningConfiguration: { Status: 'Enabled' } } }));
  return id;
};

describe('source bucket', () => {
  test('is versioned and encrypted with the warehouse S3 key (SSE-KMS, bucket key on)', () => {
    // GIVEN / WHEN
    const { template } = synth();
    // THEN
    template.hasResourceProperties('AWS::S3::Bucket', {
      VersioningConfiguration: { Status: 'Enabled' },
      BucketEncryption: {
        ServerSideEncryptionConfiguration: [
          {
            BucketKeyEnabled: true,
            ServerSideEncryptionByDefault: { SSEAlgorithm: 'aws:kms', KMSMasterKeyID: { 'Fn::GetAtt': [Match.stringLikeRegexp('S3Key'), 'Arn'] } },
          },
        ],
      },
    });
  });

  test('blocks all public access on every bucket', () => {
    const { template } = synth();
    const buckets = template.findResources('AWS::S3::Bucket');
    expect(Object.keys(buckets)).toHaveLength(3);
    for (const b of Object.values(buckets)) {
      expect(b.Properties.PublicAccessBlockConfiguration).toEqual({
        BlockPublicAcls: true,
        BlockPublicPolicy: true,
        IgnorePublicAcls: true,
        RestrictPublicBuckets: true,
      });
    }
  });

  test('every bucket denies requests that are not over TLS', () => {
    const { template } = synth();
    const policies = template.findResources('AWS::S3::BucketPolicy');
    expect(Object.keys(policies)).toHaveLength(3);
    for (const p of Object.values(policies)) {
      expect(p.Properties.PolicyDocument.Statement).toEqual(
        expect.arrayContaining([expect.objectContaining({ Effect: 'Deny', Action: 's3:*', Condition: { Bool: { 'aws:SecureTransport': 'false' } } })]),
      );
    }
  });

  test('sends events to EventBridge', () => {
    const { template } = synth();
    template.hasResourceProperties('AWS::S3::Bucket', {
      VersioningConfiguration: { Status: 'Enabled' },
      NotificationConfiguration: { EventBridgeConfiguration: { EventBridgeEnabled: true } },
    });
  });

  test('expires noncurrent versions after the configured days and aborts incomplete uploads', () => {
    const { template } = synth({ sourceVersionRetention: Duration.days(12) });
    template.hasResourceProperties('AWS::S3::Bucket', {
      VersioningConfiguration: { Status: 'Enabled' },
      LifecycleConfiguration: {
        Rules: Match.arrayWith([
          Match.objectLike({ AbortIncompleteMultipartUpload: { DaysAfterInitiation: 1 }, Status: 'Enabled' }),
          Match.objectLike({ NoncurrentVersionExpiration: { NoncurrentDays: 12 }, Status: 'Enabled' }),
        ]),
      },
    });
  });

  test('keeps noncurrent versions 30 days by default', () => {
    const { template } = synth();
    template.hasResourceProperties('AWS::S3::Bucket', {
      LifecycleConfiguration: { Rules: Match.arrayWith([Match.objectLike({ NoncurrentVersionExpiration: { NoncurrentDays: 30 } })]) },
    });
  });

  test('writes server access logs to a separate SSE-S3 log bucket that S3 can deliver to', () => {
    const { template } = synth();
    const id = sourceBucket(template);
    const src = template.toJSON().Resources[id];
    const logBucketId = src.Properties.LoggingConfiguration.DestinationBucketName.Ref;
    expect(logBucketId).toMatch(/AccessLogBucket/);
    const log = template.toJSON().Resources[logBucketId];
    expect(log.Properties.BucketEncryption.ServerSideEncryptionConfiguration[0].ServerSideEncryptionByDefault).toEqual({ SSEAlgorithm: 'AES256' });
    // The log bucket's policy lets the S3 logging service write, from this account's source bucket only.
    template.hasResourceProperties('AWS::S3::BucketPolicy', {
      Bucket: { Ref: logBucketId },
      PolicyDocument: {
        Statement: Match.arrayWith([Match.objectLike({ Effect: 'Allow', Principal: { Service: 'logging.s3.amazonaws.com' }, Action: 's3:PutObject' })]),
      },
    });
  });
});

describe('artifact bucket', () => {
  test('is SSE-KMS encrypted and expires objects after 7 days by default', () => {
    const { template } = synth();
    template.hasResourceProperties('AWS::S3::Bucket', {
      BucketEncryption: {
        ServerSideEncryptionConfiguration: [Match.objectLike({ ServerSideEncryptionByDefault: { SSEAlgorithm: 'aws:kms', KMSMasterKeyID: Match.anyValue() } })],
      },
      LifecycleConfiguration: { Rules: Match.arrayWith([Match.objectLike({ ExpirationInDays: 7, Status: 'Enabled' })]) },
    });
  });

  test('rejects retention that is not whole days', () => {
    expect(() => synth({ artifactRetention: Duration.hours(5) })).toThrow(/artifactRetention must be a whole number of days/);
  });
});

describe('keys', () => {
  test('an S3 key, an ECR key and the failure topic key, all rotated, with aliases under the namespace', () => {
    const { template } = synth({ namespace: 'acme' });
    template.resourceCountIs('AWS::KMS::Key', 3);
    for (const k of Object.values(template.findResources('AWS::KMS::Key'))) {
      expect(k.Properties.EnableKeyRotation).toBe(true);
    }
    template.hasResourceProperties('AWS::KMS::Alias', { AliasName: 'alias/acme/factory/s3' });
    template.hasResourceProperties('AWS::KMS::Alias', { AliasName: 'alias/acme/factory/ecr' });
    template.hasResourceProperties('AWS::KMS::Alias', { AliasName: 'alias/acme/factory/notifications' });
  });

  test('keys and buckets are retained when the stack is deleted', () => {
    const { template } = synth();
    for (const [type, count] of [
      ['AWS::KMS::Key', 3],
      ['AWS::S3::Bucket', 3],
    ] as const) {
      const found = Object.values(template.findResources(type));
      // A count first: a loop over no resources would pass.
      expect({ type, count: found.length }).toEqual({ type, count });
      for (const r of found) {
        expect(r.DeletionPolicy).toBe('Retain');
        expect(r.UpdateReplacePolicy).toBe('Retain');
      }
    }
  });

  test('removalPolicy DESTROY is honoured for the caller who asks for it', () => {
    const { template } = synth({ removalPolicy: RemovalPolicy.DESTROY });
    const buckets = Object.values(template.findResources('AWS::S3::Bucket'));
    expect(buckets).toHaveLength(3);
    for (const r of buckets) expect(r.DeletionPolicy).toBe('Delete');
  });
});

describe('ECR', () => {
  test('a creation template for <ns>/… creates repositories on push, KMS-encrypted with the ECR key', () => {
    const { template } = synth({ namespace: 'acme' });
    template.hasResourceProperties('AWS::ECR::RepositoryCreationTemplate', {
      Prefix: 'acme',
      AppliedFor: ['CREATE_ON_PUSH', 'PULL_THROUGH_CACHE'],
      EncryptionConfiguration: { EncryptionType: 'KMS', KmsKey: { 'Fn::GetAtt': [Match.stringLikeRegexp('EcrKey'), 'Arn'] } },
      CustomRoleArn: { 'Fn::GetAtt': [Match.stringLikeRegexp('RepositoryCreationRole'), 'Arn'] },
    });
  });

  test('the lifecycle expires untagged images only, after the configured days', () => {
    const { template } = synth({ untaggedImageRetention: Duration.days(5) });
    const [t] = Object.values(template.findResources('AWS::ECR::RepositoryCreationTemplate'));
    const policy = JSON.parse(t.Properties.LifecyclePolicy);
    expect(policy.rules).toHaveLength(1);
    expect(policy.rules[0].selection).toEqual({ tagStatus: 'untagged', countType: 'sinceImagePushed', countUnit: 'days', countNumber: 5 });
    expect(policy.rules[0].action).toEqual({ type: 'expire' });
    // No rule ever selects tagged images (a tag-prefix rule would also catch released images).
    expect(JSON.stringify(policy)).not.toMatch(/"tagged"|tagPrefixList|tagPatternList|"any"/);
  });

  test('registryScanning: true merges scan on push for every repository of the namespace into the account’s configuration, never replacing it', () => {
    const { template } = synth({ namespace: 'acme', registryScanning: true });
    template.hasResourceProperties('Custom::EcrRegistryScanning', { ScanType: 'BASIC', ScanOnPushFilters: ['acme/*'] });
    template.resourceCountIs('AWS::ECR::RegistryScanningConfiguration', 0);
  });

  test('by default no registry-level resource is created: scanning, pull-through cache, registry policy, replication, signing', () => {
    const { template } = synth();
    for (const type of [
      'AWS::ECR::RegistryScanningConfiguration',
      'AWS::ECR::PullThroughCacheRule',
      'AWS::ECR::RegistryPolicy',
      'AWS::ECR::ReplicationConfiguration',
      'AWS::ECR::SigningConfiguration',
      'Custom::EcrRegistryScanning',
      'Custom::EcrSigningConfiguration',
    ]) {
      template.resourceCountIs(type, 0);
    }
  });

  test('ecrPublicCachePrefix adds the ECR Public pull-through cache rule, whose repositories the namespace creation template covers', () => {
    const { template } = synth({ namespace: 'acme', ecrPublicCachePrefix: 'acme/ecr-public' });
    template.hasResourceProperties('AWS::ECR::PullThroughCacheRule', { EcrRepositoryPrefix: 'acme/ecr-public', UpstreamRegistryUrl: 'public.ecr.aws' });
    template.hasResourceProperties('AWS::ECR::RepositoryCreationTemplate', { Prefix: 'acme', AppliedFor: Match.arrayWith(['PULL_THROUGH_CACHE']) });
    template.resourceCountIs('AWS::ECR::RegistryScanningConfiguration', 0);
  });

  test('by default, and with registryScanning: false, the account-wide scanning configuration is left alone', () => {
    for (const template of [synth().template, synth({ registryScanning: false }).template]) {
      template.resourceCountIs('AWS::ECR::RegistryScanningConfiguration', 0);
      template.resourceCountIs('Custom::EcrRegistryScanning', 0);
    }
  });

  test('only ECR acting for this account may assume the creation role (aws:SourceAccount)', () => {
    const { template } = synth();
    template.hasResourceProperties('AWS::IAM::Role', {
      AssumeRolePolicyDocument: {
        Statement: [
          Match.objectLike({ Principal: { Service: 'ecr.amazonaws.com' }, Condition: { StringEquals: { 'aws:SourceAccount': { Ref: 'AWS::AccountId' } } } }),
        ],
      },
    });
  });

  test('the creation role may create repositories under the namespace only, and grant on the ECR key', () => {
    const { template } = synth({ namespace: 'acme' });
    template.hasResourceProperties('AWS::IAM::Role', {
      AssumeRolePolicyDocument: { Statement: [Match.objectLike({ Principal: { Service: 'ecr.amazonaws.com' } })] },
    });
    template.hasResourceProperties('AWS::IAM::Policy', {
      PolicyDocument: {
        Statement: Match.arrayWith([
          Match.objectLike({
            Action: ['ecr:CreateRepository', 'ecr:TagResource'],
            Resource: { 'Fn::Join': ['', Match.arrayWith([Match.stringLikeRegexp(':repository/acme/\\*$')])] },
          }),
          Match.objectLike({ Action: ['kms:RetireGrant', 'kms:DescribeKey'] }),
        ]),
      },
    });
  });

  test('the creation role may create a grant on the ECR key only for an AWS resource (kms:GrantIsForAWSResource)', () => {
    const { template } = synth();
    const statements = Object.values(template.findResources('AWS::IAM::Policy')).flatMap(
      (p) => p.Properties.PolicyDocument.Statement as { Action: string | string[]; Condition?: unknown }[],
    );
    const createGrant = statements.filter((st) => [st.Action].flat().includes('kms:CreateGrant'));
    expect(createGrant).toEqual([expect.objectContaining({ Action: 'kms:CreateGrant', Condition: { Bool: { 'kms:GrantIsForAWSResource': 'true' } } })]);
  });

  describe('the repositories users pull from', () => {
    /** The creation template of `prefix`, its repository policy written out with `<Ref>` for each reference. */
    const templateOf = (template: Template, prefix: string) => {
      const found = Object.values(template.findResources('AWS::ECR::RepositoryCreationTemplate')).filter((t) => t.Properties.Prefix === prefix);
      expect(found).toHaveLength(1);
      const properties = found[0].Properties;
      const policy = properties.RepositoryPolicy as { 'Fn::Join': [string, unknown[]] } | undefined;
      const text = policy && policy['Fn::Join'][1].map((part) => (typeof part === 'string' ? part : `<${(part as { Ref: string }).Ref}>`)).join('');
      return { properties, policy: text === undefined ? undefined : JSON.parse(text) };
    };

    test.each([
      ['acme/images', 'image-release'],
      ['acme/features', 'feature-publish'],
    ])('%s: X.Y.Z (any tag with two dots) is immutable in ECR, every other tag stays movable', (prefix) => {
      const { properties } = templateOf(synth({ namespace: 'acme' }).template, prefix);
      expect(properties).toMatchObject({
        AppliedFor: ['CREATE_ON_PUSH'],
        ImageTagMutability: 'MUTABLE_WITH_EXCLUSION',
        ImageTagMutabilityExclusionFilters: [{ ImageTagMutabilityExclusionFilterType: 'WILDCARD', ImageTagMutabilityExclusionFilterValue: '*.*.*' }],
        EncryptionConfiguration: { EncryptionType: 'KMS' },
      });
      expect(properties.CustomRoleArn['Fn::GetAtt'][0]).toMatch(/RepositoryCreationRole/);
    });

    test.each([
      ['acme/images', 'image-release'],
      ['acme/features', 'feature-publish'],
    ])('%s: a push by any IAM principal but a role under /devcontainer-factory/acme/%s/ is denied', (prefix, writers) => {
      const { policy } = templateOf(synth({ namespace: 'acme' }).template, prefix);
      expect(policy).toEqual({
        Version: '2012-10-17',
        Statement: [
          {
            Sid: 'OnlyReleaseWritersPush',
            Effect: 'Deny',
            Principal: '*',
            Action: ['ecr:InitiateLayerUpload', 'ecr:UploadLayerPart', 'ecr:CompleteLayerUpload', 'ecr:PutImage'],
            Condition: {
              ArnNotLike: { 'aws:PrincipalArn': `arn:<AWS::Partition>:iam::<AWS::AccountId>:role/devcontainer-factory/acme/${writers}/*` },
              Bool: { 'aws:PrincipalIsAWSService': 'false' },
            },
          },
        ],
      });
    });

    test('the writer paths are the ones releaseWriterRolePath gives the pipelines', () => {
      expect(releaseWriterRolePath('acme', 'image')).toBe('/devcontainer-factory/acme/image-release/');
      expect(releaseWriterRolePath('acme', 'feature')).toBe('/devcontainer-factory/acme/feature-publish/');
    });

    test('staging, the feature collection and the pull-through caches keep mutable tags and no repository policy', () => {
      const { template } = synth({ namespace: 'acme' });
      for (const prefix of ['acme', 'acme/builds']) {
        const { properties } = templateOf(template, prefix);
        expect(properties.ImageTagMutability).toBe('MUTABLE');
        expect(properties.ImageTagMutabilityExclusionFilters).toBeUndefined();
        expect(properties.RepositoryPolicy).toBeUndefined();
      }
    });
  });
});

describe('parameters and outputs', () => {
  test('SSM parameters under /<ns>/factory/ name the buckets, keys, registry and failure topic', () => {
    const { template } = synth({ namespace: 'acme' });
    for (const name of ['source-bucket-name', 'artifact-bucket-name', 's3-key-arn', 'ecr-key-arn', 'registry', 'repository-prefix', 'failure-topic-arn']) {
      template.hasResourceProperties('AWS::SSM::Parameter', { Name: `/acme/factory/${name}`, Type: 'String' });
    }
  });

  test('the number of resources is fixed: it does not depend on the catalogue', () => {
    const { template } = synth();
    expect(Object.keys(template.toJSON().Resources).length).toBeLessThan(40);
  });

  test('GIVEN a Warehouse in a plain Stack THEN it emits no CfnOutput and sets no context', () => {
    // GIVEN
    const stack = new Stack(new App(), 'Plain');
    // WHEN
    const warehouse = new Warehouse(stack, 'Warehouse', { registryScanning: true, ecrPublicCachePrefix: 'devcontainers/ecr-public' });
    // THEN
    expect(warehouse.node.findAll().filter((c) => c instanceof CfnOutput)).toEqual([]);
    expect(Template.fromStack(stack).toJSON().Outputs).toBeUndefined();
    expect(stack.node.tryGetContext('@aws-cdk/aws-s3:serverAccessLogsUseBucketPolicy')).toBeUndefined();
  });

  test('GIVEN a WarehouseStack THEN the stack has the 4 outputs, with the logical ids the construct gave them before', () => {
    const stack = new WarehouseStack(new App(), 'devcontainers-warehouse');
    const outputs = Template.fromStack(stack).toJSON().Outputs;
    expect(Object.keys(outputs).sort()).toEqual([
      'WarehouseParameterPrefix7BC4E557',
      'WarehouseRegistryHost2EA816F5',
      'WarehouseRepositoryPrefix7742E871',
      'WarehouseSourceBucketName4B63F5D2',
    ]);
    expect(outputs.WarehouseParameterPrefix7BC4E557.Value).toBe('/devcontainers/factory');
    Template.fromStack(stack).hasOutput('WarehouseSourceBucketName4B63F5D2', { Value: { Ref: Match.stringLikeRegexp('^WarehouseSourceBucket') } });
  });

  test.each([[undefined], [false]])(
    'GIVEN the S3 bucket-policy log delivery flag %p THEN access logs are still delivered by bucket policy, never by ACL',
    (flag) => {
      // GIVEN an app that does not switch on @aws-cdk/aws-s3:serverAccessLogsUseBucketPolicy
      const app = new App({ context: flag === undefined ? {} : { '@aws-cdk/aws-s3:serverAccessLogsUseBucketPolicy': flag } });
      const stack = new Stack(app, 'Logs');
      // WHEN
      new Warehouse(stack, 'Warehouse');
      // THEN no bucket has an ACL, and the log bucket's policy lets S3 logging put each data bucket's logs under its prefix
      const template = Template.fromStack(stack);
      const buckets = Object.values(template.findResources('AWS::S3::Bucket'));
      expect(buckets).toHaveLength(3);
      for (const bucket of buckets) expect(bucket.Properties.AccessControl).toBeUndefined();
      template.hasResourceProperties('AWS::S3::Bucket', {
        LoggingConfiguration: { DestinationBucketName: { Ref: Match.stringLikeRegexp('^WarehouseAccessLogBucket') }, LogFilePrefix: 'source/' },
      });
      for (const [prefix, bucket] of [
        ['source', 'WarehouseSourceBucket'],
        ['artifacts', 'WarehouseArtifactBucket'],
      ]) {
        template.hasResourceProperties('AWS::S3::BucketPolicy', {
          Bucket: { Ref: Match.stringLikeRegexp('^WarehouseAccessLogBucket') },
          PolicyDocument: {
            Statement: Match.arrayWith([
              Match.objectLike({
                Effect: 'Allow',
                Principal: { Service: 'logging.s3.amazonaws.com' },
                Action: 's3:PutObject',
                Resource: { 'Fn::Join': ['', [Match.anyValue(), `/${prefix}/*`]] },
                Condition: {
                  ArnLike: { 'aws:SourceArn': { 'Fn::GetAtt': [Match.stringLikeRegexp(`^${bucket}`), 'Arn'] } },
                  StringEquals: { 'aws:SourceAccount': { Ref: 'AWS::AccountId' } },
                },
              }),
            ]),
          },
        });
      }
    },
  );
});

describe('validation', () => {
  test.each([['Acme'], ['ac_me'], ['-acme'], ['acme-'], ['']])('namespace %p is refused with the rule', (ns) => {
    expect(() => synth({ namespace: ns })).toThrow(/namespace .*(invalid|empty)/);
  });
});

describe('grants', () => {
  function withRole() {
    const stack = new Stack();
    const warehouse = new Warehouse(stack, 'Warehouse');
    const role = new iam.Role(stack, 'Stage', { assumedBy: new iam.ServicePrincipal('codebuild.amazonaws.com') });
    return { stack, warehouse, role };
  }
  // The statements of the stage role's own policy.
  const statements = (stack: Stack) =>
    Object.values(Template.fromStack(stack).findResources('AWS::IAM::Policy'))
      .filter((p) => JSON.stringify(p.Properties.Roles).includes('Stage'))
      .flatMap((p) => p.Properties.PolicyDocument.Statement);

  test('grantPull allows reading one repository and logging in, nothing else', () => {
    const { stack, warehouse, role } = withRole();
    const grant = warehouse.grantPull(role, 'devcontainers/images/python');
    expect(grant.success).toBe(true);
    const s = statements(stack).filter((x) => JSON.stringify(x.Action).includes('ecr:'));
    const actions = s.flatMap((x) => [x.Action].flat());
    expect(actions).toEqual(expect.arrayContaining(['ecr:GetAuthorizationToken', 'ecr:BatchGetImage', 'ecr:GetDownloadUrlForLayer']));
    expect(actions).not.toEqual(expect.arrayContaining(['ecr:PutImage']));
    expect(actions.some((a) => /Upload|PutImage|Delete/.test(a))).toBe(false);
    const scoped = s.find((x) => [x.Action].flat().includes('ecr:BatchGetImage'));
    expect(JSON.stringify(scoped.Resource)).toContain(':repository/devcontainers/images/python');
  });

  test('grantPush adds layer upload, PutImage and create-on-push for that repository', () => {
    const { stack, warehouse, role } = withRole();
    warehouse.grantPush(role, 'devcontainers/images/python');
    const actions = statements(stack).flatMap((x) => [x.Action].flat());
    expect(actions).toEqual(
      expect.arrayContaining(['ecr:InitiateLayerUpload', 'ecr:UploadLayerPart', 'ecr:CompleteLayerUpload', 'ecr:PutImage', 'ecr:CreateRepository']),
    );
  });

  test('grantRetag allows moving tags without uploading layers', () => {
    const { stack, warehouse, role } = withRole();
    warehouse.grantRetag(role, 'devcontainers/images/python');
    const actions = statements(stack).flatMap((x) => [x.Action].flat());
    expect(actions).toEqual(expect.arrayContaining(['ecr:PutImage', 'ecr:BatchGetImage']));
    expect(actions.some((a) => /LayerUpload|UploadLayerPart|CreateRepository/.test(a))).toBe(false);
  });

  test('grantReadSource allows reading exactly one configuration key and decrypting it', () => {
    const { stack, warehouse, role } = withRole();
    warehouse.grantReadSource(role, 'image', 'python');
    const s = statements(stack);
    const read = s.find((x) => JSON.stringify(x.Action).includes('s3:GetObject'));
    expect(JSON.stringify(read.Resource)).toContain('/devcontainers/images/python.zip');
    expect(s.some((x) => JSON.stringify(x.Action).includes('kms:Decrypt'))).toBe(true);
  });

  test('grantReadParameters is scoped to /<ns>/factory', () => {
    const { stack, warehouse, role } = withRole();
    warehouse.grantReadParameters(role);
    const s = statements(stack).find((x) => JSON.stringify(x.Action).includes('ssm:GetParameter'));
    expect(JSON.stringify(s.Resource)).toContain(':parameter/devcontainers/factory');
  });

  test('granting on no repository is a mistake that throws', () => {
    const { warehouse, role } = withRole();
    expect(() => warehouse.grantPull(role)).toThrow(/at least one repository/);
  });
});

describe('Warehouse.fromNamespace', () => {
  test('reads every name from SSM parameters at deploy time, with no exports', () => {
    const app = new App();
    const stack = new Stack(app, 'Pipeline');
    const warehouse = Warehouse.fromNamespace(stack, 'Warehouse', 'acme');
    const role = new iam.Role(stack, 'R', { assumedBy: new iam.ServicePrincipal('codebuild.amazonaws.com') });
    warehouse.grantReadSource(role, 'feature', 'hello');
    const json = Template.fromStack(stack).toJSON();
    const params = Object.values(json.Parameters ?? {}).map((p) => (p as { Default: string }).Default);
    expect(params).toEqual(expect.arrayContaining(['/acme/factory/source-bucket-name', '/acme/factory/s3-key-arn']));
    expect(JSON.stringify(json)).not.toContain('Fn::ImportValue');
    expect(warehouse.repositoryName('feature', 'hello')).toBe('acme/features/hello');
    expect(warehouse.featureCollectionRepositoryName).toBe('acme/features');
  });

  test('refuses an invalid namespace', () => {
    expect(() => Warehouse.fromNamespace(new Stack(), 'W', 'Acme')).toThrow(/namespace 'Acme' is invalid/);
  });
});

describe('WarehouseStack', () => {
  test('is clean under cdk-nag in a concrete environment with partition literals', () => {
    const app = new App({ context: { '@aws-cdk/core:enablePartitionLiterals': true } });
    new WarehouseStack(app, undefined, { namespace: 'acme', env: { account: '123456789012', region: 'eu-west-1' } });
    Validations.of(app).addPlugins(new AwsSolutionsChecks(app));
    expect(() => app.synth()).not.toThrow();
  });

  test('is named <ns>-warehouse with termination protection on', () => {
    const app = new App();
    const stack = new WarehouseStack(app, undefined, { namespace: 'acme' });
    expect(stack.stackName).toBe('acme-warehouse');
    expect(stack.terminationProtection).toBe(true);
  });

  test('is clean under cdk-nag AwsSolutionsChecks', () => {
    const app = new App();
    new WarehouseStack(app, undefined, { namespace: 'acme' });
    Validations.of(app).addPlugins(new AwsSolutionsChecks(app));
    // Synthesis throws with the report when any rule is violated and not acknowledged.
    expect(() => app.synth()).not.toThrow();
  });
});
