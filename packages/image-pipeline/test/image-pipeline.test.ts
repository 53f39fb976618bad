import { pipelineName } from '@devcontainer-factory/core';
import { execFileSync } from 'node:child_process';
import { App, Stack, Token, type CfnElement } from 'aws-cdk-lib';
import { Annotations, Match, Template } from 'aws-cdk-lib/assertions';
import type { IConstruct } from 'constructs';
import { Warehouse } from '@devcontainer-factory/warehouse';
import { ImagePipeline, ImagePipelinePropsError, ImagePipelineStack, type ImagePipelineProps } from '../src';
import { cfnText, covers, isEcrWrite, roleStatements, roleStatementsOfPolicy } from './template-text';

const logicalId = (c: IConstruct) => Stack.of(c).getLogicalId(c.node.defaultChild as CfnElement);
/** The integrity of another release of the devcontainer CLI (the buildspec only carries its SHA-512). */
const OTHER_CLI_INTEGRITY = `sha512-${Buffer.alloc(64, 7).toString('base64')}`;

/** A fresh stack with one image pipeline on the `devcontainers` warehouse. */
function pipelineIn(props: Partial<ImagePipelineProps> = {}) {
  const stack = new Stack(new App());
  const warehouse = Warehouse.fromNamespace(stack, 'Warehouse', 'devcontainers');
  const imagePipeline = new ImagePipeline(stack, 'Python', { warehouse, imageId: 'python', ...props });
  return { stack, imagePipeline, template: Template.fromStack(stack) };
}

function pipelineStages(template: Template): {
  Name: string;
  BeforeEntry?: unknown;
  Actions: { Name: string; RunOrder: number; ActionTypeId: { Provider: string }; Configuration: Record<string, unknown>; Namespace?: string }[];
}[] {
  const pipelines = Object.values(template.findResources('AWS::CodePipeline::Pipeline'));
  expect(pipelines).toHaveLength(1);
  return pipelines[0].Properties.Stages;
}

function projectsByName(template: Template): Record<string, { Environment: Record<string, unknown>; Source: { BuildSpec: unknown } }> {
  const out: Record<string, { Environment: Record<string, unknown>; Source: { BuildSpec: unknown } }> = {};
  for (const [id, r] of Object.entries(template.findResources('AWS::CodeBuild::Project'))) out[id] = r.Properties;
  return out;
}

describe('ImagePipeline with default props', () => {
  // One synthesized pipeline for the read-only assertions below (synthesis copies the Lambda bundles).
  let ctx: ReturnType<typeof pipelineIn>;
  beforeAll(() => {
    ctx = pipelineIn();
  });

  test('is a CodePipeline V2 named dcf-<hash>-<ns>-image-<id> with the stages in order', () => {
    ctx.template.hasResourceProperties('AWS::CodePipeline::Pipeline', { Name: pipelineName('devcontainers', 'image', 'python'), PipelineType: 'V2' });
    expect(pipelineStages(ctx.template).map((s) => s.Name)).toEqual(['Source', 'Prepare', 'Build', 'Manifest', 'Test', 'Release']);
  });

  test('reads the exact source key, without polling', () => {
    const [source] = pipelineStages(ctx.template)[0].Actions;
    expect(source.ActionTypeId.Provider).toBe('S3');
    expect(source.Configuration).toMatchObject({ S3ObjectKey: 'devcontainers/images/python.zip', PollForSourceChanges: false });
  });

  test('Prepare, Manifest and Release are Lambda actions with their variable namespaces', () => {
    const stages = pipelineStages(ctx.template);
    for (const name of ['Prepare', 'Manifest', 'Release']) {
      const stage = stages.find((s) => s.Name === name)!;
      expect(stage.Actions.map((a) => [a.ActionTypeId.Provider, a.Namespace])).toEqual([['Lambda', name]]);
    }
  });

  test('the Lambdas (three actions and the retention job) run the handler bundles on Node.js 22 and arm64', () => {
    ctx.template.resourceCountIs('AWS::Lambda::Function', 4);
    ctx.template.allResourcesProperties('AWS::Lambda::Function', { Runtime: 'nodejs22.x', Architectures: ['arm64'], Handler: 'index.handler' });
  });

  test('Build runs one CodeBuild action per platform in parallel, each on native hardware', () => {
    const build = pipelineStages(ctx.template).find((s) => s.Name === 'Build')!;
    expect(build.Actions.map((a) => [a.Name, a.ActionTypeId.Provider, a.RunOrder])).toEqual([
      ['BuildAmd64', 'CodeBuild', 1],
      ['BuildArm64', 'CodeBuild', 1],
    ]);
    const projects = projectsByName(ctx.template);
    const env = (action: { Configuration: Record<string, unknown> }) => projects[(action.Configuration.ProjectName as { Ref: string }).Ref].Environment;
    expect(env(build.Actions[0])).toMatchObject({
      Type: 'LINUX_CONTAINER',
      Image: 'aws/codebuild/amazonlinux-x86_64-standard:5.0',
      ComputeType: 'BUILD_GENERAL1_MEDIUM',
      PrivilegedMode: true,
    });
    expect(env(build.Actions[1])).toMatchObject({
      Type: 'ARM_CONTAINER',
      Image: 'aws/codebuild/amazonlinux-aarch64-standard:3.0',
      ComputeType: 'BUILD_GENERAL1_MEDIUM',
      PrivilegedMode: true,
    });
  });

  test('Test runs one CodeBuild action per platform in parallel, each on native hardware', () => {
    const testStage = pipelineStages(ctx.template).find((s) => s.Name === 'Test')!;
    expect(testStage.Actions.map((a) => [a.Name, a.RunOrder])).toEqual([
      ['TestAmd64', 1],
      ['TestArm64', 1],
    ]);
    const projects = projectsByName(ctx.template);
    const types = testStage.Actions.map((a) => projects[(a.Configuration.ProjectName as { Ref: string }).Ref].Environment.Type);
    expect(types).toEqual(['LINUX_CONTAINER', 'ARM_CONTAINER']);
  });

  test('Build and Test get only the build id from Prepare as a variable', () => {
    const stages = pipelineStages(ctx.template);
    const variablesOf = (stage: string) => stages.find((s) => s.Name === stage)!.Actions.map((a) => JSON.parse(a.Configuration.EnvironmentVariables as string));
    const buildId = { name: 'BUILD_ID', type: 'PLAINTEXT', value: '#{Prepare.BuildId}' };
    expect(variablesOf('Build')).toEqual([0, 1].map(() => [buildId]));
    expect(variablesOf('Test')).toEqual([0, 1].map(() => [buildId]));
  });

  test('the Build role reads the image tool, one object of the CDK asset bucket, and nothing else of that bucket', () => {
    const statements = roleStatements(ctx.template, logicalId(ctx.imagePipeline.buildRole)).filter((s) =>
      s.resources.some((r) => r.includes('cdk-hnb659fds-assets')),
    );
    expect(statements).toEqual([
      {
        actions: ['s3:GetObject'],
        resources: [expect.stringMatching(/^arn:<AWS::Partition>:s3:::cdk-hnb659fds-assets-\$\{AWS::AccountId\}-\$\{AWS::Region\}\/[0-9a-f]{64}\.js$/)],
      },
    ]);
    const [build] = Object.entries(projectsByName(ctx.template)).filter(([id]) => id.includes('BuildAmd64'));
    const variables = JSON.parse(cfnText(build[1].Source.BuildSpec)).env.variables;
    expect(statements[0].resources[0]).toBe(`arn:<AWS::Partition>:s3:::${variables.TOOL_BUCKET}/${variables.TOOL_KEY}`);
  });

  test('Build, Manifest and Test are skipped by a VariableCheck on #{Prepare.Released}; Release always runs', () => {
    const stages = pipelineStages(ctx.template);
    for (const name of ['Build', 'Manifest', 'Test']) {
      expect(stages.find((s) => s.Name === name)!.BeforeEntry).toEqual({
        Conditions: [
          {
            Result: 'SKIP',
            Rules: [
              {
                Name: `${name}UnlessReleased`,
                RuleTypeId: { Category: 'Rule', Owner: 'AWS', Provider: 'VariableCheck', Version: '1' },
                Configuration: { Variable: '#{Prepare.Released}', Operator: 'EQ', Value: 'false' },
              },
            ],
          },
        ],
      });
    }
    for (const name of ['Source', 'Prepare', 'Release']) expect(stages.find((s) => s.Name === name)!.BeforeEntry).toBeUndefined();
  });

  test("the Lambda actions' UserParameters carry the repository, the build id, the version and the tag rules", () => {
    const stages = pipelineStages(ctx.template);
    const params = (name: string) => JSON.parse(cfnText(stages.find((s) => s.Name === name)!.Actions[0].Configuration.UserParameters));
    const registryHost = '<AWS::AccountId>.dkr.ecr.<AWS::Region>.<AWS::URLSuffix>';
    expect(params('Prepare')).toEqual({ registryHost, repository: 'devcontainers/images/python', baseRepositories: [], namespace: 'devcontainers' });
    expect(params('Manifest')).toEqual({
      registryHost,
      repository: 'devcontainers/builds/python',
      buildId: '#{Prepare.BuildId}',
      platforms: ['linux/amd64', 'linux/arm64'],
      sourceArtifact: 'Source',
      inputsArtifact: 'Inputs',
    });
    expect(params('Release')).toEqual({
      registryHost,
      repository: 'devcontainers/images/python',
      stagingRepository: 'devcontainers/builds/python',
      buildId: '#{Prepare.BuildId}',
      version: '#{Prepare.Version}',
      rules: ['latest', 'semver', 'date'],
    });
  });

  test('an EventBridge rule on the source bucket starts the pipeline for exactly this key', () => {
    const [rule, ...others] = Object.values(ctx.template.findResources('AWS::Events::Rule')).filter((r) => r.Properties.EventPattern?.source?.[0] === 'aws.s3');
    expect(others).toEqual([]);
    const pattern = rule.Properties.EventPattern;
    expect(pattern.source).toEqual(['aws.s3']);
    expect(pattern['detail-type']).toEqual(['Object Created']);
    expect(pattern.detail.object).toEqual({ key: ['devcontainers/images/python.zip'] });
    expect(pattern.detail.bucket.name.map(cfnText)).toEqual([expect.stringMatching(/^<SsmParameterValuedevcontainersfactorysourcebucketname/)]);
    expect(cfnText(rule.Properties.Targets[0].Arn)).toBe(
      `arn:<AWS::Partition>:codepipeline:<AWS::Region>:<AWS::AccountId>:<${logicalId(ctx.imagePipeline.pipeline)}>`,
    );
  });

  test('the Test role can pull the image but cannot push or move tags', () => {
    const statements = roleStatements(ctx.template, logicalId(ctx.imagePipeline.testRole));
    const ecrActions = statements.flatMap((s) => s.actions).filter((a) => a.startsWith('ecr:'));
    expect(ecrActions).toEqual(expect.arrayContaining(['ecr:BatchGetImage', 'ecr:GetDownloadUrlForLayer']));
    for (const forbidden of ['ecr:PutImage', 'ecr:InitiateLayerUpload', 'ecr:UploadLayerPart', 'ecr:CompleteLayerUpload', 'ecr:CreateRepository', 'ecr:*']) {
      expect(ecrActions).not.toContain(forbidden);
    }
  });

  test('the Release function writes the release repository and only reads staging (manifests and blobs to mount or copy)', () => {
    const statements = roleStatements(ctx.template, logicalId(ctx.imagePipeline.releaseFunction.role!));
    const on = (name: string) =>
      [...new Set(statements.filter((s) => s.resources.some((r) => r.endsWith(`:repository/${name}`))).flatMap((s) => s.actions))].sort();
    expect(on('devcontainers/images/python')).toEqual(
      expect.arrayContaining([
        'ecr:BatchGetImage',
        'ecr:CompleteLayerUpload',
        'ecr:InitiateLayerUpload',
        'ecr:ListImages',
        'ecr:PutImage',
        'ecr:UploadLayerPart',
      ]),
    );
    expect(on('devcontainers/builds/python')).toEqual(['ecr:BatchGetImage', 'ecr:GetDownloadUrlForLayer']);
  });

  test("no role but the Release function's can put an image, a layer or a tag in the release repository", () => {
    const release = 'devcontainers/images/python';
    const writers = Object.entries(ctx.template.findResources('AWS::IAM::Policy')).filter(([id]) =>
      roleStatementsOfPolicy(ctx.template, id).some((s) => s.actions.some(isEcrWrite) && s.resources.some((r) => covers(r, release))),
    );
    const roles = writers.flatMap(([, p]) => (p.Properties.Roles as { Ref: string }[]).map((r) => r.Ref));
    expect(roles).toEqual([logicalId(ctx.imagePipeline.releaseFunction.role!)]);
  });

  test('the Prepare function only reads manifests and tags: no S3, no layers, no registry login', () => {
    const statements = roleStatements(ctx.template, logicalId(ctx.imagePipeline.prepareFunction.role!));
    const actions = [...new Set(statements.flatMap((s) => s.actions).filter((a) => !a.startsWith('logs:')))].sort();
    expect(actions).toEqual(['codepipeline:PutJobFailureResult', 'codepipeline:PutJobSuccessResult', 'ecr:BatchGetImage', 'ecr:ListImages']);
  });

  test('the Manifest function reads configs and puts the index and its configuration in staging only', () => {
    const statements = roleStatements(ctx.template, logicalId(ctx.imagePipeline.manifestFunction.role!)).filter((s) =>
      s.actions.some((a) => a.startsWith('ecr:')),
    );
    expect(statements).toEqual([
      {
        actions: [
          'ecr:BatchGetImage',
          'ecr:GetDownloadUrlForLayer',
          'ecr:PutImage',
          'ecr:BatchCheckLayerAvailability',
          'ecr:InitiateLayerUpload',
          'ecr:UploadLayerPart',
          'ecr:CompleteLayerUpload',
        ],
        resources: ['arn:<AWS::Partition>:ecr:<AWS::Region>:<AWS::AccountId>:repository/devcontainers/builds/python'],
      },
      // The login of ECR's OCI endpoint, through which the configuration zip goes up.
      { actions: ['ecr:GetAuthorizationToken'], resources: ['*'] },
    ]);
  });

  test("the Build and Test roles read only their pipeline's artifacts and only decrypt: no bucket-wide read, no kms:Encrypt, no default log groups or report groups", () => {
    for (const role of [ctx.imagePipeline.buildRole, ctx.imagePipeline.testRole]) {
      const statements = roleStatements(ctx.template, logicalId(role));
      const actions = statements.flatMap((s) => s.actions);
      expect(actions.filter((a) => a.startsWith('kms:')).sort()).toEqual(['kms:Decrypt', 'kms:DescribeKey']);
      expect(actions.filter((a) => a.startsWith('codebuild:'))).toEqual([]);
      // (Build's read of the image tool, one object, has a test of its own.)
      const s3 = statements.filter((s) => s.actions.some((a) => a.startsWith('s3:')) && !s.resources.some((r) => r.includes('cdk-hnb659fds-assets')));
      expect(s3).toEqual([
        {
          actions: ['s3:GetObject', 's3:GetObjectVersion'],
          resources: [expect.stringMatching(/^arn:<AWS::Partition>:s3:::<SsmParameterValue\w+artifactbucketname\w+>\/dcf-[0-9a-f]{12}-dev\/\*$/)],
        },
        { actions: ['s3:GetBucketLocation'], resources: [expect.stringMatching(/^arn:<AWS::Partition>:s3:::<SsmParameterValue\w+artifactbucketname\w+>$/)] },
      ]);
      expect(statements.filter((s) => s.actions.some((a) => a.startsWith('logs:'))).flatMap((s) => s.resources)).toEqual([
        `<${logicalId(ctx.imagePipeline.logGroup)}.Arn>`,
      ]);
    }
  });

  test('the Build role can push only to the staging repository', () => {
    const statements = roleStatements(ctx.template, logicalId(ctx.imagePipeline.buildRole));
    const push = statements.filter((s) => s.actions.includes('ecr:PutImage'));
    expect(push.flatMap((s) => s.resources)).toEqual(['arn:<AWS::Partition>:ecr:<AWS::Region>:<AWS::AccountId>:repository/devcontainers/builds/python']);
  });

  test('CodeBuild projects encrypt with the warehouse S3 key and log to the pipeline log group', () => {
    ctx.template.allResourcesProperties('AWS::CodeBuild::Project', {
      EncryptionKey: { Ref: Match.stringLikeRegexp('^SsmParameterValuedevcontainersfactorys3keyarn') },
      LogsConfig: { CloudWatchLogs: { Status: 'ENABLED', GroupName: { Ref: logicalId(ctx.imagePipeline.logGroup) } } },
    });
    ctx.template.hasResourceProperties('AWS::Logs::LogGroup', { RetentionInDays: 90 });
  });

  test('uses no Fn::ImportValue and creates no exports', () => {
    const json = JSON.stringify(ctx.template.toJSON());
    expect(json).not.toContain('Fn::ImportValue');
    expect(Object.values(ctx.template.toJSON().Outputs ?? {}).filter((o) => (o as { Export?: unknown }).Export)).toEqual([]);
  });

  test('stays small: 39 resources for two platforms, retention (with its lock table and failure alarm), the failure rule and the weekly refresh included (the aws-samples pipeline needs 22 with six privileged LARGE projects)', () => {
    const counts: Record<string, number> = {};
    for (const r of Object.values(ctx.template.toJSON().Resources) as { Type: string }[]) counts[r.Type] = (counts[r.Type] ?? 0) + 1;
    expect(counts).toEqual({
      'AWS::CodePipeline::Pipeline': 1,
      'AWS::CodeBuild::Project': 4,
      // Prepare, Manifest, Release, retention.
      'AWS::Lambda::Function': 4,
      // Each with no retry of a failed asynchronous invocation.
      'AWS::Lambda::EventInvokeConfig': 4,
      // Pipeline, Build, Test, four Lambdas, EventBridge target, refresh schedule.
      'AWS::IAM::Role': 9,
      'AWS::IAM::Policy': 9,
      // The upload trigger, the failure rule and the retention schedule.
      'AWS::Events::Rule': 3,
      // Retention's errors and throttles.
      'AWS::CloudWatch::Alarm': 1,
      // The weekly refresh.
      'AWS::Scheduler::Schedule': 1,
      'AWS::Lambda::Permission': 1,
      'AWS::Logs::LogGroup': 1,
      // The release lock Release and retention share.
      'AWS::DynamoDB::Table': 1,
    });
  });

  test('Release and retention share the lock of the image: the Release function names the table and may take and give up only the lock items of its repositories', () => {
    const table = logicalId(ctx.imagePipeline.retention!.lockTable);
    const release = ctx.template.findResources('AWS::Lambda::Function', {
      Properties: { Role: { 'Fn::GetAtt': [logicalId(ctx.imagePipeline.releaseFunction.role!), 'Arn'] } },
    });
    expect(Object.values(release).map((f) => f.Properties.Environment.Variables.DCF_RELEASE_LOCK_TABLE)).toEqual([{ Ref: table }]);
    const statements = roleStatements(ctx.template, logicalId(ctx.imagePipeline.releaseFunction.role!)).filter((s) =>
      s.actions.some((a) => a.startsWith('dynamodb:')),
    );
    expect(statements.map((s) => s.actions)).toEqual([['dynamodb:PutItem', 'dynamodb:DeleteItem']]);
    expect(JSON.stringify(statements)).toContain(table);
  });

  test('retention runs daily on the release and staging repositories of the image, keeping 10 date tags and staging builds for 14 days', () => {
    const fn = ctx.imagePipeline.retention!.function;
    const env = ctx.template.findResources('AWS::Lambda::Function')[logicalId(fn)].Properties.Environment.Variables;
    expect(env).toMatchObject({
      RELEASE_REPOSITORY: 'devcontainers/images/python',
      STAGING_REPOSITORY: 'devcontainers/builds/python',
      KEEP_DATE_TAGS: '10',
      STAGING_MAX_AGE_DAYS: '14',
    });
    ctx.template.hasResourceProperties('AWS::Events::Rule', { ScheduleExpression: 'rate(1 day)' });
    expect(pipelineIn({ retention: false }).imagePipeline.retention).toBeUndefined();
    const custom = pipelineIn({ retention: { keepDateTags: 3 } });
    expect(
      custom.template.findResources('AWS::Lambda::Function')[logicalId(custom.imagePipeline.retention!.function)].Properties.Environment.Variables
        .KEEP_DATE_TAGS,
    ).toBe('3');
  });
});

describe('buildspecs in the template', () => {
  let projects: ReturnType<typeof projectsByName>;
  beforeAll(() => {
    projects = projectsByName(
      pipelineIn({ platforms: ['linux/arm64'], devcontainerCliVersion: '0.88.1', devcontainerCliIntegrity: OTHER_CLI_INTEGRITY }).template,
    );
  });
  const spec = (prefix: string) => JSON.parse(cfnText(Object.entries(projects).find(([id]) => id.includes(prefix))![1].Source.BuildSpec));

  test('Build and Test pin the devcontainer CLI and its integrity, Build turns attestations off and pushes <build>-<arch>', () => {
    const build = spec('BuildArm64');
    const pin = {
      DEVCONTAINER_CLI_VERSION: '0.88.1',
      DEVCONTAINER_CLI_SHA512: Buffer.from(OTHER_CLI_INTEGRITY.slice('sha512-'.length), 'base64').toString('hex'),
    };
    expect(build.env.variables).toMatchObject({ ...pin, BUILDX_NO_DEFAULT_ATTESTATIONS: '1', PLATFORM: 'linux/arm64', CACHE_TAG: 'buildcache-arm64' });
    expect(spec('TestArm64').env.variables).toMatchObject(pin);
    // A configuration's ${localEnv:DCF_REGISTRY} / ${localEnv:DCF_NAMESPACE} name the factory's registry and namespace in the cloud too.
    expect(cfnText(build.env.variables.DCF_REGISTRY)).toBe('<AWS::AccountId>.dkr.ecr.<AWS::Region>.<AWS::URLSuffix>');
    expect(build.env.variables.DCF_NAMESPACE).toBe('devcontainers');
    expect(build.phases.install.commands).toContain(
      'npm install --global --offline --ignore-scripts --no-fund --no-audit "$DEVCONTAINER_CLI_TGZ" && rm -rf "$DEVCONTAINER_CLI_DIR"',
    );
    const script = build.phases.build.commands.join('\n');
    expect(script).toContain('--image-name "$REGISTRY/$REPOSITORY:${BUILD_ID}-arm64"');
    expect(script).toContain('--push');
  });

  test('Build reads the registry cache only when it exists and writes it as an OCI image manifest', () => {
    const script: string = spec('BuildArm64').phases.build.commands.join('\n');
    const check = script.indexOf('if aws ecr describe-images --repository-name "$REPOSITORY" --image-ids "imageTag=$CACHE_TAG"');
    const cacheFrom = script.indexOf('CACHE_FROM=(--cache-from "type=registry,ref=$CACHE_REF")');
    const noCache = script.indexOf('CACHE_FROM=()');
    expect(check).toBeGreaterThanOrEqual(0);
    expect(cacheFrom).toBeGreaterThan(check);
    expect(noCache).toBeGreaterThan(cacheFrom);
    expect(script).toContain('--cache-to "type=registry,ref=$CACHE_REF,mode=max,image-manifest=true,oci-mediatypes=true"');
    expect(script.match(/--cache-from "/g)).toHaveLength(1);
  });

  test('Test pulls the index for its platform and checks architecture, label and the configuration tests', () => {
    const testSpec = spec('TestArm64');
    expect(testSpec.env.variables).toMatchObject({ PLATFORM: 'linux/arm64', EXPECTED_MACHINE: 'aarch64', METADATA_LABEL: 'devcontainer.metadata' });
    expect(testSpec.phases.pre_build.commands).toEqual(
      expect.arrayContaining(['IMAGE="$REGISTRY/$REPOSITORY:$BUILD_ID"', 'docker pull --platform "$PLATFORM" "$IMAGE"']),
    );
    const script: string = testSpec.phases.build.commands.join('\n');
    expect(script).toContain('--entrypoint uname "$IMAGE" -m');
    expect(script).toContain('if [ -f "$CODEBUILD_SRC_DIR/test-project/test.sh" ]; then');
    expect(script).toContain('devcontainer exec "${TEST_ARGS[@]}" /bin/sh -c "cd test-project && ./test.sh"');
  });

  test('every command is valid bash', () => {
    for (const prefix of ['BuildArm64', 'TestArm64']) {
      const s = spec(prefix);
      for (const phase of Object.values(s.phases) as { commands: string[] }[]) {
        for (const command of phase.commands) {
          expect(() => execFileSync('bash', ['-n', '-c', command], { stdio: 'pipe' })).not.toThrow();
        }
      }
    }
  });

  test('Build creates its docker-container builder from the BuildKit image, from ECR Public by default (never Docker Hub), pinned to a release', () => {
    const build = spec('BuildArm64');
    expect(build.env.variables.BUILDKIT_IMAGE).toBe('public.ecr.aws/vend/moby/buildkit:v0.32.2');
    expect(build.phases.pre_build.commands).toContain(
      'docker buildx create --name devcontainer-factory --driver docker-container --driver-opt "image=${BUILDKIT_IMAGE}" --bootstrap --use',
    );
    expect(spec('TestArm64').env.variables.BUILDKIT_IMAGE).toBeUndefined();
  });

  test('a narrowed catalogue entry builds, assembles and tests only its platforms', () => {
    expect(Object.keys(projects).map((id) => id.replace(/[0-9A-F]{8}$/, ''))).toEqual(['PythonBuildArm64', 'PythonTestArm64']);
  });
});

describe('ImagePipeline with buildkitImage', () => {
  test('points the Build projects at a mirror of BuildKit, e.g. in ECR', () => {
    // GIVEN an account that mirrors BuildKit in ECR to stay clear of Docker Hub's rate limit
    const mirror = '123456789012.dkr.ecr.eu-west-1.amazonaws.com/docker-hub/moby/buildkit:buildx-stable-1';
    // WHEN
    const { template } = pipelineIn({ platforms: ['linux/amd64'], buildkitImage: mirror });
    // THEN
    const [build] = Object.entries(projectsByName(template)).filter(([id]) => id.includes('BuildAmd64'));
    expect(JSON.parse(cfnText(build[1].Source.BuildSpec)).env.variables.BUILDKIT_IMAGE).toBe(mirror);
  });

  test('accepts a token, such as the URI of a repository of the same app', () => {
    const stack = new Stack();
    const warehouse = Warehouse.fromNamespace(stack, 'W', 'devcontainers');
    const mirror = `${warehouse.registryHost}/docker-hub/moby/buildkit:buildx-stable-1`;
    expect(Token.isUnresolved(mirror)).toBe(true);
    expect(() => new ImagePipeline(stack, 'P', { warehouse, imageId: 'python', buildkitImage: mirror })).not.toThrow();
  });
});

describe('the BuildKit image pin', () => {
  const warnings = (props: Partial<ImagePipelineProps>) =>
    Annotations.fromStack(pipelineIn({ platforms: ['linux/amd64'], ...props }).stack).findWarning('*', Match.stringLikeRegexp('BuildKit image of Build'));
  const DIGEST = `sha256:${'4'.repeat(64)}`;

  test('the default is pinned by tag only, and a synth-time warning says to pin it by digest', () => {
    const [warning] = warnings({});
    expect(warning.entry.data).toMatch(
      /the BuildKit image of Build, the default vend\/moby\/buildkit:v0\.32\.2, is pinned by tag only, which its registry can move to other content: pin it by digest \(buildkitImage: '<image>:<tag>@sha256:<digest>'/,
    );
    expect(warning.entry.data).toContain('[ack: devcontainer-factory:buildkit-image-not-pinned]');
  });

  test('a tag of the caller is warned of too; a digest, with or without a tag, is not', () => {
    expect(warnings({ buildkitImage: 'public.ecr.aws/vend/moby/buildkit:buildx-stable-1' })[0].entry.data).toMatch(
      /'public\.ecr\.aws\/vend\/moby\/buildkit:buildx-stable-1', is pinned by tag only/,
    );
    expect(warnings({ buildkitImage: `public.ecr.aws/vend/moby/buildkit:v0.32.2@${DIGEST}` })).toEqual([]);
    expect(warnings({ buildkitImage: `public.ecr.aws/vend/moby/buildkit@${DIGEST}` })).toEqual([]);
  });

  test('a digest after a deploy-time registry host is read as a digest; a reference made entirely at deploy time is warned of as unchecked', () => {
    const stack = new Stack();
    const warehouse = Warehouse.fromNamespace(stack, 'W', 'devcontainers');
    new ImagePipeline(stack, 'P', { warehouse, imageId: 'python', buildkitImage: `${warehouse.registryHost}/mirror/moby/buildkit:v0.32.2@${DIGEST}` });
    new ImagePipeline(stack, 'Q', { warehouse, imageId: 'node', buildkitImage: Token.asString({ resolve: () => 'from-a-parameter' }) });
    const found = Annotations.fromStack(stack).findWarning('*', Match.stringLikeRegexp('BuildKit image of Build'));
    expect(found.map((w) => [w.id, w.entry.data])).toEqual([
      [
        '/Default/Q',
        expect.stringMatching(/^the BuildKit image of Build is resolved at deploy time, so nothing checks that it names its registry and a digest/),
      ],
    ]);
  });
});

describe('ImagePipeline with dockerHubCachePrefix', () => {
  test('Build mirrors docker.io to the cache, may pull and import under it, and Prepare knows of it', () => {
    // GIVEN a registry whose Docker Hub pull-through cache is devcontainers/docker-hub
    const { template, imagePipeline } = pipelineIn({ platforms: ['linux/amd64'], dockerHubCachePrefix: 'devcontainers/docker-hub' });
    // THEN Build's builder reads a configuration that mirrors docker.io to <registry>/devcontainers/docker-hub
    const [build] = Object.entries(projectsByName(template)).filter(([id]) => id.includes('BuildAmd64'));
    const buildSpec = JSON.parse(cfnText(build[1].Source.BuildSpec));
    expect(buildSpec.env.variables.DOCKER_HUB_MIRROR).toBe('<AWS::AccountId>.dkr.ecr.<AWS::Region>.<AWS::URLSuffix>/devcontainers/docker-hub');
    expect(buildSpec.phases.pre_build.commands.join('\n')).toContain('--buildkitd-config "$WORK/buildkitd.toml"');
    expect(buildSpec.phases.build.commands.join('\n')).toContain('node "$WORK/image-tool.js" docker-hub-bases --mirror "$DOCKER_HUB_MIRROR"');
    // and the Build role may pull, and import on first use, only under the prefix
    const importing = roleStatements(template, logicalId(imagePipeline.buildRole)).filter((s) => s.actions.includes('ecr:BatchImportUpstreamImage'));
    expect(importing.flatMap((s) => s.resources)).toEqual([expect.stringMatching(/repository\/devcontainers\/docker-hub\/\*$/)]);
    // and Prepare does not warn of Docker Hub bases
    const prepare = pipelineStages(template).find((s) => s.Name === 'Prepare')!;
    expect(JSON.parse(cfnText(prepare.Actions[0].Configuration.UserParameters)).dockerHubCachePrefix).toBe('devcontainers/docker-hub');
  });

  test('without one, Build has no mirror and Prepare is told of none', () => {
    const { template } = pipelineIn({ platforms: ['linux/amd64'] });
    const [build] = Object.entries(projectsByName(template)).filter(([id]) => id.includes('BuildAmd64'));
    expect(cfnText(build[1].Source.BuildSpec)).not.toContain('DOCKER_HUB_MIRROR');
    const prepare = pipelineStages(template).find((s) => s.Name === 'Prepare')!;
    expect(JSON.parse(cfnText(prepare.Actions[0].Configuration.UserParameters))).not.toHaveProperty('dockerHubCachePrefix');
  });
});

describe('ImagePipeline with ecrPublicCachePrefix', () => {
  test('pulls BuildKit through the pull-through cache of the factory registry, and Build may pull and import only there', () => {
    // GIVEN a warehouse whose registry serves ECR Public under devcontainers/ecr-public
    const { template, imagePipeline } = pipelineIn({ platforms: ['linux/amd64'], ecrPublicCachePrefix: 'devcontainers/ecr-public' });
    // THEN the Build buildspec names BuildKit in the factory registry
    const [build] = Object.entries(projectsByName(template)).filter(([id]) => id.includes('BuildAmd64'));
    expect(cfnText(build[1].Source.BuildSpec)).toContain('.dkr.ecr.');
    expect(JSON.parse(cfnText(build[1].Source.BuildSpec)).env.variables.BUILDKIT_IMAGE).toMatch(
      /^<AWS::AccountId>\.dkr\.ecr\.<AWS::Region>\.<AWS::URLSuffix>\/devcontainers\/ecr-public\/vend\/moby\/buildkit:v0\.32\.2$/,
    );
    // and the Build role may import upstream images only under the prefix
    const statements = roleStatements(template, logicalId(imagePipeline.buildRole));
    const importing = statements.filter((s) => s.actions.includes('ecr:BatchImportUpstreamImage'));
    expect(importing.flatMap((s) => s.resources)).toEqual([expect.stringMatching(/repository\/devcontainers\/ecr-public\/\*$/)]);
    expect(importing.flatMap((s) => s.actions)).not.toContain('ecr:PutImage');
  });
});

describe('ImagePipeline with dependsOn', () => {
  test('starts on a push of a base image latest tag, and passes the base repositories to Prepare', () => {
    // GIVEN an image built on two factory images
    const { template, imagePipeline } = pipelineIn({ dependsOn: ['base', 'tools'] });
    // THEN (upload, base images, failures, retention)
    template.resourceCountIs('AWS::Events::Rule', 4);
    template.hasResourceProperties('AWS::Events::Rule', {
      EventPattern: {
        source: ['aws.ecr'],
        'detail-type': ['ECR Image Action'],
        detail: {
          'action-type': ['PUSH'],
          result: ['SUCCESS'],
          'repository-name': ['devcontainers/images/base', 'devcontainers/images/tools'],
          'image-tag': ['latest'],
        },
      },
    });
    const prepare = pipelineStages(template).find((s) => s.Name === 'Prepare')!;
    expect(JSON.parse(cfnText(prepare.Actions[0].Configuration.UserParameters)).baseRepositories).toEqual([
      'devcontainers/images/base',
      'devcontainers/images/tools',
    ]);
    // and Build may pull the bases but push only its own repository
    const buildStatements = roleStatements(template, logicalId(imagePipeline.buildRole));
    const pullBases = buildStatements.filter((s) => s.resources.some((r) => r.endsWith('repository/devcontainers/images/base')));
    expect(pullBases.flatMap((s) => s.actions)).not.toContain('ecr:PutImage');
  });
});

describe('ImagePipeline validation', () => {
  const attempt = (props: Partial<ImagePipelineProps>) => () => {
    const stack = new Stack();
    new ImagePipeline(stack, 'P', { warehouse: Warehouse.fromNamespace(stack, 'W', 'devcontainers'), imageId: 'python', ...props });
  };

  test.each([
    [{ imageId: 'Python_3' }, /image id 'Python_3' is invalid.*\(try 'python-3'\)/],
    [{ platforms: [] }, /platforms must not be empty: name at least one of linux\/amd64, linux\/arm64/],
    [{ platforms: ['linux/amd64', 'linux/amd64'] }, /platforms names 'linux\/amd64' more than once/],
    [{ platforms: ['linux/riscv64' as never] }, /platforms has unknown value 'linux\/riscv64': use linux\/amd64, linux\/arm64/],
    [{ releaseTags: [] }, /releaseTags must not be empty/],
    [{ releaseTags: ['latest', 'nightly' as never] }, /releaseTags has unknown value 'nightly'/],
    [{ computeSize: 'huge' as never }, /computeSize 'huge' is unknown: use small, medium, large, xlarge, 2xlarge/],
    [{ dependsOn: ['python'] }, /image 'python' cannot depend on itself/],
    [{ dependsOn: ['base', 'base'] }, /names an image more than once/],
    [{ dependsOn: ['Base'] }, /dependsOn of image 'python': image id 'Base' is invalid/],
    [{ devcontainerCliVersion: 'latest' }, /devcontainerCliVersion 'latest' must be an exact version such as 0\.89\.0/],
    [{ buildkitImage: '' }, /buildkitImage '' is not an image reference with a registry host: .* e\.g\. public\.ecr\.aws\/vend\/moby\/buildkit:v0\.32\.2/],
    [
      { buildkitImage: 'public.ecr.aws/vend/moby/buildkit' },
      /buildkitImage 'public\.ecr\.aws\/vend\/moby\/buildkit' names neither a tag nor a digest, so every build would pull whatever :latest is then: pin a release/,
    ],
    [
      { buildkitImage: 'public.ecr.aws/vend/moby/buildkit@sha256:abc' },
      /buildkitImage 'public\.ecr\.aws\/vend\/moby\/buildkit@sha256:abc' is not an image reference/,
    ],
    [
      { devcontainerCliVersion: '0.88.1' },
      /devcontainerCliVersion '0\.88\.1' needs its npm integrity, which the install checks the tarball against: pass devcontainerCliIntegrity/,
    ],
    [{ devcontainerCliVersion: '0.88.1', devcontainerCliIntegrity: 'sha512-short' }, /devcontainerCliIntegrity 'sha512-short' is not an npm sha512 integrity/],
    [{ dockerHubCachePrefix: 'Hub' }, /dockerHubCachePrefix 'Hub' is not an ECR pull-through cache prefix/],
    [
      { dockerHubCachePrefix: 'devcontainers/cache', ecrPublicCachePrefix: 'devcontainers/cache' },
      /dockerHubCachePrefix 'devcontainers\/cache' is the ECR Public cache's prefix/,
    ],
    [
      { buildkitImage: 'moby/buildkit:buildx-stable-1' },
      /buildkitImage 'moby\/buildkit:buildx-stable-1' is not an image reference with a registry host: .*pulled anonymously from Docker Hub/,
    ],
    [{ ecrPublicCachePrefix: 'x' }, /ecrPublicCachePrefix 'x' is not an ECR pull-through cache prefix: use 2 to 30/],
    [{ ecrPublicCachePrefix: 'Devcontainers/ECR' }, /ecrPublicCachePrefix 'Devcontainers\/ECR' is not an ECR pull-through cache prefix/],
    [{ pullThroughCachePrefixes: ['acme/docker-hub', 'Hub'] }, /pullThroughCachePrefixes 'Hub' is not an ECR pull-through cache prefix/],
    [{ buildkitImage: 'moby/buildkit:buildx stable' }, /buildkitImage 'moby\/buildkit:buildx stable' is not an image reference/],
    [{ buildkitImage: 'Moby/BuildKit' }, /buildkitImage 'Moby\/BuildKit' is not an image reference with a registry host: use .* in lowercase/],
  ])('rejects %j', (props, message) => {
    expect(attempt(props as Partial<ImagePipelineProps>)).toThrow(message);
    // Each as the construct's props error, named after the construct: core's id check included.
    expect(attempt(props as Partial<ImagePipelineProps>)).toThrow(ImagePipelinePropsError);
    expect(attempt(props as Partial<ImagePipelineProps>)).toThrow(/^Default\/P: /);
  });
});

describe('ImagePipelineStack', () => {
  test('is the stack <ns>-image-<id> by default, its pipeline dcf-<hash>-<ns>-image-<id>, and finds the warehouse through SSM parameters', () => {
    // GIVEN
    const app = new App();
    // WHEN
    const stack = new ImagePipelineStack(app, undefined, { namespace: 'acme', imageId: 'node', platforms: ['linux/amd64'] });
    // THEN
    expect(stack.stackName).toBe('acme-image-node');
    const parameters = Template.fromStack(stack).toJSON().Parameters;
    const ssm = Object.values(parameters).filter((p) => (p as { Type: string }).Type === 'AWS::SSM::Parameter::Value<String>');
    expect(
      ssm
        .map((p) => (p as { Default: string }).Default)
        .filter((name) => name.startsWith('/acme/'))
        .sort(),
    ).toEqual(['/acme/factory/artifact-bucket-name', '/acme/factory/failure-topic-arn', '/acme/factory/s3-key-arn', '/acme/factory/source-bucket-name']);
    Template.fromStack(stack).hasResourceProperties('AWS::CodePipeline::Pipeline', { Name: pipelineName('acme', 'image', 'node') });
  });

  test('rejects an invalid namespace before creating anything', () => {
    expect(() => new ImagePipelineStack(new App(), undefined, { namespace: 'Acme', imageId: 'node' })).toThrow(/namespace 'Acme' is invalid/);
  });
});
