import { App, FileSystem, Stack, Validations } from 'aws-cdk-lib';
import { Annotations, Match, Template } from 'aws-cdk-lib/assertions';
import type * as iam from 'aws-cdk-lib/aws-iam';
import * as secretsmanager from 'aws-cdk-lib/aws-secretsmanager';
import { AwsSolutionsChecks } from 'cdk-nag';
import { WAREHOUSE_HANDLERS, bundleDir } from '@devcontainer-factory/lambdas';
import { RegistrySettings } from '../src';

describe('RegistrySettings', () => {
  test('GIVEN no props THEN no account-wide resource is created', () => {
    const stack = new Stack();
    new RegistrySettings(stack, 'Settings');
    expect(Object.keys(Template.fromStack(stack).toJSON().Resources ?? {})).toEqual([]);
  });

  test('GIVEN scan-on-push filters THEN a custom resource merges them into the account’s configuration, which the stack never replaces, and an info note says so', () => {
    // GIVEN
    const stack = new Stack();
    // WHEN
    const settings = new RegistrySettings(stack, 'Settings', { scanOnPushFilters: ['acme/*', 'tools/*', 'acme/*'] });
    // THEN
    const template = Template.fromStack(stack);
    template.resourceCountIs('AWS::ECR::RegistryScanningConfiguration', 0);
    template.resourceCountIs('Custom::EcrRegistryScanning', 1);
    template.hasResourceProperties('Custom::EcrRegistryScanning', {
      ServiceToken: Match.anyValue(),
      ScanType: 'BASIC',
      ScanOnPushFilters: ['acme/*', 'tools/*'],
    });
    // Deleting the stack must reach the handler, which takes out only these filters.
    template.hasResource('Custom::EcrRegistryScanning', { DeletionPolicy: 'Delete', UpdateReplacePolicy: 'Delete' });
    expect(settings.scanningConfiguration).toBeDefined();
    Annotations.fromStack(stack).hasInfo(
      '/Default/Settings',
      Match.stringLikeRegexp(
        "account-wide: this stack merges its scan-on-push filters \\(acme/\\*, tools/\\*\\) into the ECR registry scanning configuration .*keeping the account's other rules and filters and never downgrading an ENHANCED account; deleting the stack removes only these filters$",
      ),
    );
  });

  test('GIVEN scan-on-push filters THEN the handler is the registry-settings bundle, whose role may read and write the scanning configuration (and turn on Inspector for ENHANCED), nothing else', () => {
    const stack = new Stack();
    const settings = new RegistrySettings(stack, 'Settings', { scanOnPushFilters: ['acme/*'] });
    const template = Template.fromStack(stack);
    // One function, which is the custom resource's service token and answers CloudFormation itself.
    template.resourceCountIs('AWS::Lambda::Function', 1);
    const [fn] = Object.entries(template.findResources('AWS::Lambda::Function'));
    expect(fn[1].Properties).toMatchObject({
      Handler: 'index.handler',
      Runtime: 'nodejs22.x',
      Architectures: ['arm64'],
      LoggingConfig: { LogFormat: 'JSON', LogGroup: { Ref: expect.stringMatching(/MergeProviderLogs/) } },
    });
    expect(fn[1].Properties.Code.S3Key).toBe(`${FileSystem.fingerprint(bundleDir(WAREHOUSE_HANDLERS.registrySettings))}.zip`);
    template.hasResourceProperties('Custom::EcrRegistryScanning', { ServiceToken: { 'Fn::GetAtt': [fn[0], 'Arn'] }, ServiceTimeout: '900' });
    template.resourceCountIs('AWS::IAM::Role', 1);
    const policy = (role: unknown) =>
      Object.values(template.findResources('AWS::IAM::Policy')).filter((p) => JSON.stringify(p.Properties.Roles) === JSON.stringify([stack.resolve(role)]));
    const statements = policy((settings.node.findChild('MergeProvider').node.findChild('Role') as iam.Role).roleName).flatMap(
      (p) => p.Properties.PolicyDocument.Statement,
    );
    expect(statements.filter((s) => s.Resource === '*')).toEqual([
      { Action: ['ecr:GetRegistryScanningConfiguration', 'ecr:PutRegistryScanningConfiguration'], Effect: 'Allow', Resource: '*' },
      { Action: ['inspector2:Enable', 'inspector2:ListAccountPermissions'], Effect: 'Allow', Resource: '*' },
    ]);
    expect(JSON.stringify(statements)).not.toMatch(/Signing|iam:CreateServiceLinkedRole|inspector2:Disable/);
    // Its role carries no managed policy.
    for (const role of Object.values(template.findResources('AWS::IAM::Role'))) expect(role.Properties.ManagedPolicyArns).toBeUndefined();
    template.hasResourceProperties('AWS::Logs::LogGroup', { RetentionInDays: 365 });
  });

  test('GIVEN scanType ENHANCED THEN the property says so, the role may create only Inspector’s service-linked role, and the note says a BASIC account is upgraded', () => {
    const stack = new Stack();
    new RegistrySettings(stack, 'Settings', { scanOnPushFilters: ['acme/*'], scanType: 'ENHANCED' });
    const template = Template.fromStack(stack);
    template.hasResourceProperties('Custom::EcrRegistryScanning', { ScanType: 'ENHANCED', ScanOnPushFilters: ['acme/*'] });
    const statements = Object.values(template.findResources('AWS::IAM::Policy')).flatMap((p) => p.Properties.PolicyDocument.Statement);
    const linked = statements.filter((s) => s.Action === 'iam:CreateServiceLinkedRole');
    expect(linked).toHaveLength(1);
    expect(linked[0].Condition).toEqual({ StringEquals: { 'iam:AWSServiceName': 'inspector2.amazonaws.com' } });
    expect(JSON.stringify(linked[0].Resource)).toContain(':role/aws-service-role/inspector2.amazonaws.com/AWSServiceRoleForAmazonInspector2');
    Annotations.fromStack(stack).hasInfo(
      '/Default/Settings',
      Match.stringLikeRegexp('scanType ENHANCED upgrades a BASIC account to ENHANCED .*deleting the stack does not downgrade it'),
    );
  });

  test('GIVEN an ECR Public cache prefix THEN one pull-through cache rule for public.ecr.aws under it, noted as account-wide', () => {
    const stack = new Stack();
    new RegistrySettings(stack, 'Settings', { ecrPublicCachePrefix: 'acme/ecr-public' });
    const template = Template.fromStack(stack);
    template.hasResourceProperties('AWS::ECR::PullThroughCacheRule', {
      EcrRepositoryPrefix: 'acme/ecr-public',
      UpstreamRegistry: 'ecr-public',
      UpstreamRegistryUrl: 'public.ecr.aws',
    });
    template.resourceCountIs('AWS::ECR::RegistryScanningConfiguration', 0);
    Annotations.fromStack(stack).hasInfo('/Default/Settings', Match.stringLikeRegexp('account-wide: the pull-through cache prefix acme/ecr-public/'));
  });

  test.each([
    [
      { ecrPublicCachePrefix: 'a-very-long-namespace-name/ecr-public' },
      /ecrPublicCachePrefix 'a-very-long-namespace-name\/ecr-public' is not an ECR pull-through cache prefix: use 2 to 30/,
    ],
    [{ scanOnPushFilters: ['Acme/*'] }, /'Acme\/\*' are not ECR repository filters/],
    [{ scanOnPushFilters: ['acme/'] }, /'acme\/' are not ECR repository filters/],
    [{ scanOnPushFilters: ['acme/*'], scanType: 'FULL' as never }, /scanType 'FULL' is unknown: use BASIC or ENHANCED/],
    [{ scanType: 'BASIC' as const }, /scanType is set but scanOnPushFilters is empty/],
  ])('GIVEN %j THEN a clear error', (props, message) => {
    expect(() => new RegistrySettings(new Stack(), 'Settings', props)).toThrow(message);
  });

  test('GIVEN more scan-on-push filters than ECR allows in a rule THEN a clear error at synth', () => {
    const scanOnPushFilters = Array.from({ length: 101 }, (_, i) => `team${i}/*`);
    expect(() => new RegistrySettings(new Stack(), 'Settings', { scanOnPushFilters })).toThrow(/scanOnPushFilters has 101 filters, and ECR allows 100/);
  });
});

describe('RegistrySettings upstream caches with credentials', () => {
  const secret = (stack: Stack, name: string) => secretsmanager.Secret.fromSecretNameV2(stack, `Secret${name.replace(/\W/g, '')}`, name);

  test('GIVEN Docker Hub and GHCR rules with ecr-pullthroughcache/ secrets THEN one pull-through cache rule each, with the upstream URL and the secret ARN, noted as account-wide', () => {
    const stack = new Stack();
    new RegistrySettings(stack, 'Settings', {
      upstreamCaches: [
        { prefix: 'acme/docker-hub', upstream: 'docker-hub', credential: secret(stack, 'ecr-pullthroughcache/docker-hub') },
        { prefix: 'acme/ghcr', upstream: 'github-container-registry', credential: secret(stack, 'ecr-pullthroughcache/ghcr') },
      ],
    });
    const rules = Object.values(Template.fromStack(stack).findResources('AWS::ECR::PullThroughCacheRule')).map((r) => r.Properties);
    expect(rules.map((r) => [r.EcrRepositoryPrefix, r.UpstreamRegistry, r.UpstreamRegistryUrl])).toEqual([
      ['acme/docker-hub', 'docker-hub', 'registry-1.docker.io'],
      ['acme/ghcr', 'github-container-registry', 'ghcr.io'],
    ]);
    expect(JSON.stringify(rules[0].CredentialArn)).toContain('secret:ecr-pullthroughcache/docker-hub');
    Annotations.fromStack(stack).hasInfo(
      '/Default/Settings',
      Match.stringLikeRegexp('account-wide: the pull-through cache prefix acme/docker-hub/ serves registry-1.docker.io'),
    );
  });

  test.each([
    [
      'a secret not named ecr-pullthroughcache/…',
      { prefix: 'acme/docker-hub', upstream: 'docker-hub' as const, name: 'dockerhub' },
      /the credential secret 'dockerhub' of prefix 'acme\/docker-hub' must be named 'ecr-pullthroughcache\/…'/,
    ],
    [
      'an unknown upstream',
      { prefix: 'acme/x', upstream: 'gcr' as never, name: 'ecr-pullthroughcache/x' },
      /upstream 'gcr' of prefix 'acme\/x' is unknown: use docker-hub, github-container-registry, quay/,
    ],
    [
      'a bad prefix',
      { prefix: 'Acme/hub', upstream: 'docker-hub' as const, name: 'ecr-pullthroughcache/x' },
      /upstreamCaches prefix 'Acme\/hub' is not an ECR pull-through cache prefix/,
    ],
  ])('GIVEN %s THEN a clear error', (_what, rule, message) => {
    const stack = new Stack();
    expect(
      () =>
        new RegistrySettings(stack, 'Settings', { upstreamCaches: [{ prefix: rule.prefix, upstream: rule.upstream, credential: secret(stack, rule.name) }] }),
    ).toThrow(message);
  });

  test('GIVEN the ECR Public prefix again as an upstream prefix THEN a clear error', () => {
    const stack = new Stack();
    expect(
      () =>
        new RegistrySettings(stack, 'Settings', {
          ecrPublicCachePrefix: 'acme/cache',
          upstreamCaches: [{ prefix: 'acme/cache', upstream: 'docker-hub', credential: secret(stack, 'ecr-pullthroughcache/hub') }],
        }),
    ).toThrow(/the pull-through cache prefix 'acme\/cache' is used twice/);
  });
});

describe('RegistrySettings blob mounting', () => {
  const putBlobMounting = { service: 'ECR', action: 'PutAccountSetting', parameters: { name: 'BLOB_MOUNTING', value: 'ENABLED' } };

  /** The create/update/delete calls of the stack's one `Custom::EcrAccountSetting`, parsed. */
  function calls(stack: Stack): { create?: unknown; update?: unknown; delete?: unknown } {
    const resources = Object.values(Template.fromStack(stack).findResources('Custom::EcrAccountSetting'));
    expect(resources).toHaveLength(1);
    // The calls are JSON strings (no token in them).
    const parse = (v: unknown) => (v === undefined ? undefined : JSON.parse(v as string));
    const props = resources[0].Properties;
    return { create: parse(props.Create), update: parse(props.Update), delete: parse(props.Delete) };
  }

  test('GIVEN blobMounting is not set or false THEN no custom resource, Lambda or policy is created', () => {
    for (const props of [{}, { blobMounting: false }]) {
      const stack = new Stack();
      new RegistrySettings(stack, 'Settings', props);
      expect(Object.keys(Template.fromStack(stack).toJSON().Resources ?? {})).toEqual([]);
      expect(Annotations.fromStack(stack).findInfo('*', Match.stringLikeRegexp('blob mounting'))).toEqual([]);
    }
  });

  test('GIVEN blobMounting THEN PutAccountSetting BLOB_MOUNTING=ENABLED on create and update, and nothing on delete', () => {
    // GIVEN
    const stack = new Stack();
    // WHEN
    const settings = new RegistrySettings(stack, 'Settings', { blobMounting: true });
    // THEN
    expect(settings.blobMountingSetting).toBeDefined();
    const { create, update, delete: onDelete } = calls(stack);
    expect(create).toMatchObject(putBlobMounting);
    expect(update).toMatchObject(putBlobMounting);
    expect(onDelete).toBeUndefined();
    Template.fromStack(stack).hasResourceProperties('Custom::EcrAccountSetting', { InstallLatestAwsSdk: false });
  });

  test('GIVEN blobMounting THEN the custom resource may call ecr:PutAccountSetting and nothing else', () => {
    const stack = new Stack();
    new RegistrySettings(stack, 'Settings', { blobMounting: true });
    const policies = Object.values(Template.fromStack(stack).findResources('AWS::IAM::Policy'));
    expect(policies).toHaveLength(1);
    expect(policies[0].Properties.PolicyDocument.Statement).toEqual([{ Action: 'ecr:PutAccountSetting', Effect: 'Allow', Resource: '*' }]);
  });

  test('GIVEN blobMounting THEN its Lambda logs to a log group with a retention', () => {
    const stack = new Stack();
    new RegistrySettings(stack, 'Settings', { blobMounting: true });
    const template = Template.fromStack(stack);
    template.resourceCountIs('AWS::Lambda::Function', 1);
    template.hasResourceProperties('AWS::Logs::LogGroup', { RetentionInDays: 365 });
    template.hasResourceProperties('AWS::Lambda::Function', { LoggingConfig: { LogGroup: Match.anyValue() } });
  });

  test('GIVEN blobMounting THEN an info note says it is account-wide and that deleting the stack leaves it on', () => {
    const stack = new Stack();
    new RegistrySettings(stack, 'Settings', { blobMounting: true });
    Annotations.fromStack(stack).hasInfo('/Default/Settings', Match.stringLikeRegexp('account-wide: .*blob mounting.*deleting the stack leaves it on'));
  });

  test.each([
    ['in an environment-agnostic stack', {}, undefined],
    ['in a concrete environment with partition literals', { '@aws-cdk/core:enablePartitionLiterals': true }, { account: '123456789012', region: 'eu-west-1' }],
  ])('GIVEN blobMounting with every other setting THEN cdk-nag AwsSolutionsChecks pass %s', (_, context, env) => {
    // GIVEN
    const app = new App({ context });
    const stack = new Stack(app, 'Settings', { env });
    new RegistrySettings(stack, 'Settings', { blobMounting: true, scanOnPushFilters: ['acme/*'], ecrPublicCachePrefix: 'acme/ecr-public' });
    // WHEN
    Validations.of(app).addPlugins(new AwsSolutionsChecks(app));
    // THEN: synthesis throws with the report when any rule is violated and not acknowledged.
    expect(() => app.synth()).not.toThrow();
  });
});
