/**
 * What the Lambda actions carry and how: short values in `UserParameters` (each of which
 * must fit CodePipeline's 1,000 characters of a configuration value once its variables
 * are resolved), the build's input record and the uploaded zip as artifacts, read and
 * written with the job's artifact credentials, not with the functions' own roles.
 */
import { App, Stack, type CfnElement } from 'aws-cdk-lib';
import { Template } from 'aws-cdk-lib/assertions';
import type { IConstruct } from 'constructs';
import { BUILD_ID_LENGTH, MAX_VERSION_LENGTH } from '@devcontainer-factory/core';
import { Warehouse } from '@devcontainer-factory/warehouse';
import { ImagePipeline, ImagePipelinePropsError, type ImagePipelineProps } from '../src';
import { cfnText, covers, isEcrWrite, roleStatements } from './template-text';

const logicalId = (c: IConstruct) => Stack.of(c).getLogicalId(c.node.defaultChild as CfnElement);

type Action = {
  Name: string;
  ActionTypeId: { Provider: string };
  Configuration: Record<string, unknown>;
  InputArtifacts?: { Name: string }[];
  OutputArtifacts?: { Name: string }[];
};

function pipelineIn(props: Partial<ImagePipelineProps> = {}) {
  const stack = new Stack(new App());
  const warehouse = Warehouse.fromNamespace(stack, 'Warehouse', 'devcontainers');
  const imagePipeline = new ImagePipeline(stack, 'Python', { warehouse, imageId: 'python', ...props });
  const template = Template.fromStack(stack);
  const [pipeline] = Object.values(template.findResources('AWS::CodePipeline::Pipeline'));
  const actions = (pipeline.Properties.Stages as { Name: string; Actions: Action[] }[]).flatMap((st) => st.Actions);
  return { stack, imagePipeline, template, actions, action: (name: string) => actions.find((a) => a.Name === name)! };
}

/**
 * A `UserParameters` value as CodePipeline holds it once it runs the action: each
 * deploy-time value (the registry host) at 64 characters, each Prepare variable at its
 * longest value.
 */
function resolvedAtMost(value: unknown): string {
  const text = cfnText(value).replace(/<[^>]+>\.dkr\.ecr\.<[^>]+>\.<[^>]+>/g, 'h'.repeat(64));
  return text
    .replace(/#\{Prepare\.BuildId\}/g, 'b'.repeat(BUILD_ID_LENGTH))
    .replace(/#\{Prepare\.Version\}/g, 'v'.repeat(MAX_VERSION_LENGTH))
    .replace(/#\{Prepare\.Released\}/g, 'false');
}

describe.each([
  ['the defaults', {}],
  [
    'many dependsOn bases and features, and every tag rule',
    { dependsOn: Array.from({ length: 8 }, (_, i) => `base-image-number-${i}`), usesFeatures: ['hello', 'world'], releaseTags: ['latest', 'semver', 'date'] },
  ],
] as const)('an image pipeline with %s', (_name, props) => {
  let ctx: ReturnType<typeof pipelineIn>;
  beforeAll(() => {
    ctx = pipelineIn(props as Partial<ImagePipelineProps>);
  });

  test('no UserParameters or EnvironmentVariables names #{Prepare.Inputs}: the input record is not passed through a configuration value', () => {
    const lambdas = ctx.actions.filter((a) => a.ActionTypeId.Provider === 'Lambda');
    expect(lambdas.map((a) => a.Name)).toEqual(['Prepare', 'Manifest', 'Release']);
    for (const a of lambdas) expect(cfnText(a.Configuration.UserParameters)).not.toContain('#{Prepare.Inputs}');
    const builds = ctx.actions.filter((a) => a.ActionTypeId.Provider === 'CodeBuild');
    expect(builds.map((a) => a.Name)).toEqual(['BuildAmd64', 'BuildArm64', 'TestAmd64', 'TestArm64']);
    for (const a of builds) expect(cfnText(a.Configuration.EnvironmentVariables)).not.toContain('#{Prepare.Inputs}');
  });

  test('every EnvironmentVariables value fits 1,000 characters with every variable at its longest', () => {
    for (const a of ctx.actions.filter((x) => x.Configuration.EnvironmentVariables !== undefined)) {
      const resolved = resolvedAtMost(a.Configuration.EnvironmentVariables);
      expect(resolved).not.toMatch(/#\{/);
      expect(resolved.length).toBeLessThanOrEqual(1000);
    }
  });

  test('every UserParameters value fits 1,000 characters with the registry host and every variable at their longest', () => {
    for (const a of ctx.actions.filter((x) => x.Configuration.UserParameters !== undefined)) {
      const resolved = resolvedAtMost(a.Configuration.UserParameters);
      expect(resolved).not.toMatch(/#\{/);
      expect({ action: a.Name, length: Math.min(resolved.length, 1001) }).toEqual({ action: a.Name, length: Math.min(resolved.length, 1000) });
    }
  });
});

describe('the input record and the configuration travel as artifacts', () => {
  let ctx: ReturnType<typeof pipelineIn>;
  beforeAll(() => {
    ctx = pipelineIn();
  });

  test('Prepare reads the Source artifact and writes the Inputs artifact; Manifest reads both, and its parameters name them', () => {
    expect(ctx.action('Prepare')).toMatchObject({ InputArtifacts: [{ Name: 'Source' }], OutputArtifacts: [{ Name: 'Inputs' }] });
    expect(ctx.action('Manifest').InputArtifacts).toEqual([{ Name: 'Source' }, { Name: 'Inputs' }]);
    expect(ctx.action('Manifest').OutputArtifacts ?? []).toEqual([]);
    expect(JSON.parse(cfnText(ctx.action('Manifest').Configuration.UserParameters))).toMatchObject({ sourceArtifact: 'Source', inputsArtifact: 'Inputs' });
  });

  test('each Build action takes the Inputs artifact as a secondary source, the configuration staying its primary source; Test takes the configuration only', () => {
    for (const name of ['BuildAmd64', 'BuildArm64']) {
      expect(ctx.action(name).InputArtifacts).toEqual([{ Name: 'Source' }, { Name: 'Inputs' }]);
      expect(ctx.action(name).Configuration.PrimarySource).toBe('Source');
    }
    for (const name of ['TestAmd64', 'TestArm64']) expect(ctx.action(name).InputArtifacts).toEqual([{ Name: 'Source' }]);
  });

  test('the Prepare and Manifest roles get no S3 or KMS rights: they use the job artifact credentials', () => {
    for (const fn of [ctx.imagePipeline.prepareFunction, ctx.imagePipeline.manifestFunction]) {
      const actions = roleStatements(ctx.template, logicalId(fn.role!)).flatMap((s) => s.actions);
      expect(actions.filter((a) => a.startsWith('s3:') || a.startsWith('kms:'))).toEqual([]);
    }
  });

  test('the pipeline role, whose session the artifact credentials are, may write the artifact bucket', () => {
    const actions = roleStatements(ctx.template, logicalId(ctx.imagePipeline.pipeline.role)).flatMap((s) => s.actions);
    expect(actions).toEqual(expect.arrayContaining(['s3:PutObject', 's3:GetObject*']));
  });

  test('the Manifest role uploads blobs and puts manifests in staging only, through a registry login', () => {
    const statements = roleStatements(ctx.template, logicalId(ctx.imagePipeline.manifestFunction.role!));
    const writes = statements.filter((s) => s.actions.some(isEcrWrite));
    expect(
      writes
        .flatMap((s) => s.actions)
        .filter(isEcrWrite)
        .sort(),
    ).toEqual(['ecr:CompleteLayerUpload', 'ecr:InitiateLayerUpload', 'ecr:PutImage', 'ecr:UploadLayerPart']);
    for (const s of writes) {
      for (const r of s.resources) {
        expect(covers(r, 'devcontainers/builds/python')).toBe(true);
        expect(covers(r, 'devcontainers/images/python')).toBe(false);
      }
    }
    expect(statements.filter((s) => s.actions.includes('ecr:GetAuthorizationToken'))).toEqual([{ actions: ['ecr:GetAuthorizationToken'], resources: ['*'] }]);
  });
});

test('parameters that would pass the limit are refused at synth, naming the action', () => {
  expect(() => pipelineIn({ dependsOn: Array.from({ length: 20 }, (_, i) => `a-rather-long-base-image-id-${i}`) })).toThrow(ImagePipelinePropsError);
  expect(() => pipelineIn({ dependsOn: Array.from({ length: 20 }, (_, i) => `a-rather-long-base-image-id-${i}`) })).toThrow(
    /Prepare action's parameters \d+ characters long; CodePipeline allows 1000/,
  );
});
