import { pipelineName } from '@devcontainer-factory/core';
import { App, Stack, Validations } from 'aws-cdk-lib';
import { Match, Template } from 'aws-cdk-lib/assertions';
import { AwsSolutionsChecks } from 'cdk-nag';
import { Warehouse } from '@devcontainer-factory/warehouse';
import { FeaturePipeline, FeaturePipelineProps, FeaturePipelineStack } from '../src';

function synth(props: Partial<FeaturePipelineProps> = {}, namespace = 'acme') {
  const stack = new Stack();
  const warehouse = Warehouse.fromNamespace(stack, 'Warehouse', namespace);
  const featurePipeline = new FeaturePipeline(stack, 'FeaturePipeline', { warehouse, featureId: 'hello', ...props });
  return { stack, featurePipeline, template: Template.fromStack(stack) };
}

/** The policy statements of the role whose logical id starts with `prefix`. */
function statements(template: Template, prefix: string): Array<{ Action: string | string[]; Resource: unknown }> {
  const policies = template.findResources('AWS::IAM::Policy', { Properties: { Roles: [{ Ref: Match.stringLikeRegexp(`^FeaturePipeline${prefix}`) }] } });
  return Object.values(policies).flatMap((p) => p.Properties.PolicyDocument.Statement);
}

const actionsOf = (s: { Action: string | string[] }) => (Array.isArray(s.Action) ? s.Action : [s.Action]);
const ecrRepositoryArn = (name: string) => ({
  'Fn::Join': ['', ['arn:', { Ref: 'AWS::Partition' }, ':ecr:', { Ref: 'AWS::Region' }, ':', { Ref: 'AWS::AccountId' }, `:repository/${name}`]],
});

/** The buildspec of the project whose description mentions `what`, as an object. */
function buildSpec(template: Template, what: RegExp): { env: { variables: Record<string, unknown> }; phases: Record<string, { commands: string[] }> } {
  const projects = Object.values(template.findResources('AWS::CodeBuild::Project')).filter((p) => what.test(p.Properties.Description));
  expect(projects).toHaveLength(1);
  // Tokens (registry host, asset bucket and key) make the buildspec an Fn::Join: write each token as TOKEN.
  const flatten = (v: unknown): string =>
    typeof v === 'string'
      ? v
      : Array.isArray((v as { 'Fn::Join'?: unknown })['Fn::Join'])
        ? (v as { 'Fn::Join': [string, unknown[]] })['Fn::Join'][1].map(flatten).join('')
        : 'TOKEN';
  return JSON.parse(flatten(projects[0].Properties.Source.BuildSpec));
}

describe('FeaturePipeline', () => {
  test('is a CodePipeline V2 named dcf-<hash>-<ns>-feature-<id> with the stages Source, Test and Publish, runs queued', () => {
    // GIVEN / WHEN
    const { template } = synth();

    // THEN
    template.hasResourceProperties('AWS::CodePipeline::Pipeline', {
      Name: pipelineName('acme', 'feature', 'hello'),
      PipelineType: 'V2',
      ExecutionMode: 'QUEUED',
      Stages: [
        Match.objectLike({ Name: 'Source', Actions: [Match.objectLike({ ActionTypeId: Match.objectLike({ Provider: 'S3' }) })] }),
        Match.objectLike({ Name: 'Test', Actions: [Match.objectLike({ ActionTypeId: Match.objectLike({ Provider: 'CodeBuild' }) })] }),
        Match.objectLike({ Name: 'Publish', Actions: [Match.objectLike({ ActionTypeId: Match.objectLike({ Provider: 'CodeBuild' }) })] }),
      ],
    });
  });

  test('reads <ns>/features/<id>.zip from the source bucket without polling', () => {
    // GIVEN / WHEN
    const { template } = synth();

    // THEN
    template.hasResourceProperties('AWS::CodePipeline::Pipeline', {
      Stages: Match.arrayWith([
        Match.objectLike({
          Name: 'Source',
          Actions: [Match.objectLike({ Configuration: Match.objectLike({ S3ObjectKey: 'acme/features/hello.zip', PollForSourceChanges: false }) })],
        }),
      ]),
    });
  });

  test('is started by an EventBridge rule on the exact source key', () => {
    // GIVEN / WHEN
    const { template } = synth();

    // THEN
    template.hasResourceProperties('AWS::Events::Rule', {
      EventPattern: {
        source: ['aws.s3'],
        'detail-type': ['Object Created'],
        detail: { bucket: { name: [Match.anyValue()] }, object: { key: ['acme/features/hello.zip'] } },
      },
      Targets: [Match.objectLike({ Arn: Match.anyValue(), RoleArn: Match.anyValue() })],
    });
  });

  test('Test is privileged (Docker for devcontainer features test) and validates, lays out and tests the feature', () => {
    // GIVEN / WHEN
    const { template } = synth();

    // THEN
    template.hasResourceProperties('AWS::CodeBuild::Project', {
      Description: Match.stringLikeRegexp('validates and tests the feature hello'),
      Environment: Match.objectLike({ PrivilegedMode: true, ComputeType: 'BUILD_GENERAL1_SMALL' }),
    });
    const spec = buildSpec(template, /validates and tests/);
    expect(spec.env.variables).toMatchObject({ NAMESPACE: 'acme', FEATURE_ID: 'hello', DEVCONTAINER_CLI_VERSION: '0.89.0' });
    expect(spec.phases.build.commands.join('\n')).toMatch(/feature-tool|FEATURE_TOOL/);
    expect(spec.phases.build.commands[0]).toBe('node "$FEATURE_TOOL" validate --src "$CODEBUILD_SRC_DIR" --id "$FEATURE_ID"');
    expect(spec.phases.build.commands.join('\n')).toContain('devcontainer $TEST_ARGS');
  });

  test('Publish is not privileged and runs plan, devcontainer features publish, complete in that order', () => {
    // GIVEN / WHEN
    const { template } = synth();

    // THEN
    template.hasResourceProperties('AWS::CodeBuild::Project', {
      Description: Match.stringLikeRegexp('publishes the feature hello to acme/features/hello'),
      Environment: Match.objectLike({ PrivilegedMode: false }),
    });
    const commands = buildSpec(template, /publishes the feature/).phases.build.commands;
    const at = (pattern: RegExp) => commands.findIndex((c) => pattern.test(c));
    expect(at(/ plan /)).toBeGreaterThan(at(/devcontainer features package/));
    expect(at(/devcontainer features publish --registry "\$REGISTRY" --namespace "\$NAMESPACE\/features"/)).toBeGreaterThan(at(/ plan /));
    expect(at(/ complete /)).toBeGreaterThan(at(/devcontainer features publish/));
  });

  test('both projects install the pinned devcontainer CLI, checked against its integrity, and fetch the feature tool from its S3 asset', () => {
    // GIVEN / WHEN another CLI release, with the integrity of its tarball
    const integrity = `sha512-${Buffer.alloc(64, 9).toString('base64')}`;
    const { template } = synth({ devcontainerCliVersion: '0.88.0', devcontainerCliIntegrity: integrity });

    // THEN
    for (const what of [/validates and tests/, /publishes the feature/]) {
      const spec = buildSpec(template, what);
      expect(spec.env.variables).toMatchObject({
        DEVCONTAINER_CLI_VERSION: '0.88.0',
        DEVCONTAINER_CLI_SHA512: Buffer.alloc(64, 9).toString('hex'),
        TOOL_BUCKET: 'TOKEN',
        TOOL_KEY: expect.stringMatching(/^[0-9a-f]{64}\.js$/),
      });
      expect(spec.phases.install.commands).toEqual(
        expect.arrayContaining([
          expect.stringContaining('sha512sum --check --strict --status'),
          'npm install --global --offline --ignore-scripts --no-fund --no-audit "$DEVCONTAINER_CLI_TGZ" && rm -rf "$DEVCONTAINER_CLI_DIR"',
          'aws s3 cp --only-show-errors "s3://${TOOL_BUCKET}/${TOOL_KEY}" "$FEATURE_TOOL"',
        ]),
      );
    }
  });

  test('the Test role can pull from the namespace and never push', () => {
    // GIVEN / WHEN
    const { template } = synth();

    // THEN
    const test = statements(template, 'TestRole');
    const ecr = test.filter((s) => actionsOf(s).some((a) => a.startsWith('ecr:') && a !== 'ecr:GetAuthorizationToken'));
    expect(ecr).toHaveLength(1);
    expect(ecr[0].Resource).toEqual([ecrRepositoryArn('acme/images/*'), ecrRepositoryArn('acme/features/*')]);
    const all = test.flatMap(actionsOf);
    for (const push of ['ecr:PutImage', 'ecr:InitiateLayerUpload', 'ecr:CompleteLayerUpload', 'ecr:CreateRepository']) expect(all).not.toContain(push);
  });

  test('the Publish role pushes to <ns>/features/<id> and <ns>/features only, and pulls the other features', () => {
    // GIVEN / WHEN
    const { template } = synth();

    // THEN
    const publish = statements(template, 'PublishRole');
    const pushing = publish.filter((s) => actionsOf(s).includes('ecr:PutImage'));
    expect(pushing).toHaveLength(1);
    expect(pushing[0].Resource).toEqual([ecrRepositoryArn('acme/features/hello'), ecrRepositoryArn('acme/features')]);
    const pulling = publish.filter((s) => actionsOf(s).includes('ecr:BatchGetImage') && !actionsOf(s).includes('ecr:PutImage'));
    expect(pulling.map((s) => s.Resource)).toEqual([ecrRepositoryArn('acme/features/*')]);
  });

  test('each stage has its own role, and both may read the feature tool object of the asset bucket and nothing else of it', () => {
    // GIVEN / WHEN
    const { template, featurePipeline } = synth();

    // THEN
    expect(featurePipeline.testRole).not.toBe(featurePipeline.publishRole);
    for (const role of ['TestRole', 'PublishRole']) {
      const reads = statements(template, role).filter((s) => JSON.stringify(s.Resource).includes('cdk-hnb659fds-assets'));
      expect(reads.flatMap(actionsOf)).toEqual(['s3:GetObject']);
      // One object, by its key (the asset hash): no bucket ARN, no `*`.
      const resources = reads.flatMap((s) => [s.Resource].flat()).map((r) => JSON.stringify(r));
      expect(resources).toHaveLength(1);
      expect(resources[0]).toMatch(/cdk-hnb659fds-assets-.*"\/[0-9a-f]{64}\.js"/);
    }
  });

  test('the projects log to the pipeline log group (kept three months) and encrypt with the warehouse S3 key', () => {
    // GIVEN / WHEN
    const { template } = synth();

    // THEN
    template.hasResourceProperties('AWS::Logs::LogGroup', { RetentionInDays: 90 });
    template.resourcePropertiesCountIs(
      'AWS::CodeBuild::Project',
      { LogsConfig: { CloudWatchLogs: { Status: 'ENABLED', GroupName: Match.anyValue() } }, EncryptionKey: Match.anyValue() },
      2,
    );
  });

  test('computeSize sets the CodeBuild compute of both projects', () => {
    const { template } = synth({ computeSize: 'large' });
    template.resourcePropertiesCountIs('AWS::CodeBuild::Project', { Environment: Match.objectLike({ ComputeType: 'BUILD_GENERAL1_LARGE' }) }, 2);
  });

  test.each<[string, Partial<FeaturePipelineProps>, RegExp]>([
    ['an invalid feature id', { featureId: 'Hello_World' }, /feature id 'Hello_World' is invalid: .* \(try 'hello-world'\)/],
    ['an empty feature id', { featureId: '' }, /feature id must not be empty/],
    ['an unknown compute size', { computeSize: 'huge' as never }, /computeSize 'huge' is unknown: use small, medium, large/],
    ['a CLI version range', { devcontainerCliVersion: '^0.89.0' }, /devcontainerCliVersion '\^0\.89\.0' must be an exact version such as 0\.89\.0/],
    [
      'another CLI version without its integrity',
      { devcontainerCliVersion: '0.88.0' },
      /devcontainerCliVersion '0\.88\.0' needs its npm integrity, which the install checks the tarball against: pass devcontainerCliIntegrity/,
    ],
  ])('refuses %s with a clear error', (_name, props, message) => {
    expect(() => synth(props)).toThrow(message);
  });
});

describe('FeaturePipelineStack', () => {
  test('is named <ns>-feature-<id>, finds the warehouse through SSM parameters and uses no CloudFormation exports', () => {
    // GIVEN
    const app = new App();

    // WHEN
    const stack = new FeaturePipelineStack(app, undefined, { namespace: 'acme', featureId: 'hello' });

    // THEN
    expect(stack.stackName).toBe('acme-feature-hello');
    const template = Template.fromStack(stack);
    expect(JSON.stringify(template.toJSON())).not.toContain('Fn::ImportValue');
    expect(Object.values(template.toJSON().Parameters ?? {}).map((p) => (p as { Default?: string }).Default)).toEqual(
      expect.arrayContaining(['/acme/factory/source-bucket-name', '/acme/factory/artifact-bucket-name']),
    );
    expect(stack.featurePipeline.pipeline.pipelineName).toBeDefined();
  });

  test('defaults to the devcontainers namespace', () => {
    const stack = new FeaturePipelineStack(new App(), undefined, { featureId: 'hello' });
    expect(stack.stackName).toBe('devcontainers-feature-hello');
  });

  test('refuses an invalid namespace before creating anything', () => {
    expect(() => new FeaturePipelineStack(new App(), undefined, { namespace: 'Acme', featureId: 'hello' })).toThrow(/namespace 'Acme' is invalid/);
  });

  test('is clean under cdk-nag AwsSolutionsChecks, environment-agnostic or in an account and region with partition literals', () => {
    // GIVEN: the factory app's feature flag that writes `arn:aws:` when the region is known
    const app = new App({ context: { '@aws-cdk/core:enablePartitionLiterals': true } });
    new FeaturePipelineStack(app, undefined, { namespace: 'acme', featureId: 'hello' });
    new FeaturePipelineStack(app, undefined, { namespace: 'acme', featureId: 'world', env: { account: '123456789012', region: 'eu-west-1' } });

    // WHEN
    Validations.of(app).addPlugins(new AwsSolutionsChecks(app));

    // THEN: synthesis throws with the report when any rule is violated and not acknowledged
    expect(() => app.synth()).not.toThrow();
  });
});
