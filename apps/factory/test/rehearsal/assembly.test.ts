import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { loadAssembly, type Assembly } from '../../rehearsal/assembly';
import { RehearsalError } from '../../rehearsal/errors';
import { ACCOUNT, ENV, REGION, editedCopy, logicalIdOf, removeAssemblies, synthesizeAssembly } from './synthesized-assembly';
import { pipelineName } from '@devcontainer-factory/core';

afterAll(removeAssemblies);

/** The paths in `value` of every key that is still an intrinsic function (`Ref`, `Fn::…`). */
function intrinsicsIn(value: unknown, path: string): string[] {
  if (Array.isArray(value)) return value.flatMap((v, i) => intrinsicsIn(v, `${path}.${i}`));
  if (typeof value !== 'object' || value === null) return [];
  return Object.entries(value).flatMap(([k, v]) => (k === 'Ref' || k.startsWith('Fn::') ? [`${path}.${k}`] : intrinsicsIn(v, `${path}.${k}`)));
}

/** What each service allows a name to be (the generated ones included). */
const NAME_RULES: Record<string, RegExp> = {
  'AWS::IAM::Role': /^[\w+=,.@-]{1,64}$/,
  'AWS::S3::Bucket': /^[a-z0-9][a-z0-9.-]{1,61}[a-z0-9]$/,
  'AWS::Lambda::Function': /^[a-zA-Z0-9-_]{1,64}$/,
  'AWS::Events::Rule': /^[.\-_A-Za-z0-9]{1,64}$/,
  'AWS::Scheduler::Schedule': /^[0-9a-zA-Z-_.]{1,64}$/,
  'AWS::CodePipeline::Pipeline': /^[A-Za-z0-9.@\-_]{1,100}$/,
  'AWS::CodeBuild::Project': /^[A-Za-z0-9][A-Za-z0-9\-_]{1,254}$/,
  'AWS::DynamoDB::Table': /^[a-zA-Z0-9_.-]{3,255}$/,
  'AWS::Logs::LogGroup': /^[.\-_/#A-Za-z0-9]{1,512}$/,
};

function expectFullyResolved(assembly: Assembly): void {
  const left = assembly.resources().flatMap((r) => intrinsicsIn(r.properties, `${r.stack}/${r.logicalId}.Properties`));
  const outputs = [...assembly.stacks.values()].flatMap((s) => [...s.outputs].flatMap(([name, o]) => intrinsicsIn(o.value, `${s.name}.Outputs.${name}`)));
  expect([...left, ...outputs]).toEqual([]);
  // Something to walk: the check above must not pass on empty properties.
  expect(assembly.resources().filter((r) => Object.keys(r.properties).length > 0).length).toBeGreaterThan(50);
}

function expectNamesWithinLimits(assembly: Assembly): void {
  const bad = assembly
    .resources()
    .filter((r) => NAME_RULES[r.type] && !NAME_RULES[r.type].test(r.physicalName))
    .map((r) => `${r.type} ${r.stack}/${r.logicalId}: ${r.physicalName} (${r.physicalName.length})`);
  expect(bad).toEqual([]);
  const names = assembly.resources().map((r) => `${r.type} ${r.physicalName}`);
  expect(new Set(names).size).toBe(names.length);
}

describe('loadAssembly, on the example catalogue as cdk synth writes it', () => {
  let dir: string;
  let assembly: Assembly;
  beforeAll(() => {
    dir = synthesizeAssembly({ catalog: '../../examples/catalog.yaml' });
    assembly = loadAssembly(dir, ENV);
  }, 120_000);

  const warehouse = () => assembly.stack('devcontainers-warehouse');
  const warehouseResource = (type: string, prefix: string) =>
    [...warehouse().resources.values()].find((r) => r.type === type && r.logicalId.startsWith(prefix))!;

  test('reads every stack artifact of the manifest, for the account and region it is given', () => {
    expect([...assembly.stacks.keys()].sort()).toEqual(
      ['devcontainers-feature-hello', 'devcontainers-image-base', 'devcontainers-image-greeter', 'devcontainers-image-tools', 'devcontainers-warehouse'].sort(),
    );
    expect([assembly.account, assembly.region, assembly.partition, assembly.urlSuffix]).toEqual([ACCOUNT, REGION, 'aws', 'amazonaws.com']);
    expect(assembly.stack('devcontainers-image-greeter').dependencies).toContain('devcontainers-warehouse');
  });

  test('leaves no intrinsic function in any resource or output of any stack', () => {
    expectFullyResolved(assembly);
  });

  test('gives every resource a physical name the service accepts, unique per type', () => {
    expectNamesWithinLimits(assembly);
  });

  test("resolves each pipeline stack's SSM parameters to the warehouse's bucket names and key ARN", () => {
    const sourceBucket = warehouseResource('AWS::S3::Bucket', 'WarehouseSourceBucket');
    const artifactBucket = warehouseResource('AWS::S3::Bucket', 'WarehouseArtifactBucket');
    const s3Key = warehouseResource('AWS::KMS::Key', 'WarehouseS3Key');
    expect(artifactBucket.physicalName).toMatch(/^devcontainers-warehouse-warehouseartifactbucket/);
    expect(s3Key.arn).toMatch(new RegExp(`^arn:aws:kms:${REGION}:${ACCOUNT}:key/[0-9a-f-]{36}$`));
    for (const stack of [...assembly.stacks.values()].filter((s) => s.name !== 'devcontainers-warehouse')) {
      const values = Object.fromEntries(
        [...stack.parameters].filter(([name]) => name.startsWith('SsmParameterValue')).map(([name, v]) => [name.replace(/C96584B6.*$/, ''), v]),
      );
      expect(values).toEqual({
        SsmParameterValuedevcontainersfactorysourcebucketname: sourceBucket.physicalName,
        SsmParameterValuedevcontainersfactoryartifactbucketname: artifactBucket.physicalName,
        SsmParameterValuedevcontainersfactorys3keyarn: s3Key.arn,
        SsmParameterValuedevcontainersfactoryfailuretopicarn: warehouseResource('AWS::SNS::Topic', 'WarehouseFailuresTopic').arn,
      });
      expect(stack.parameters.get('BootstrapVersion')).toBe('33');
    }
  });

  test("stores each pipeline's artifacts in the warehouse's artifact bucket, encrypted with its S3 key", () => {
    const artifactBucket = warehouseResource('AWS::S3::Bucket', 'WarehouseArtifactBucket');
    const s3Key = warehouseResource('AWS::KMS::Key', 'WarehouseS3Key');
    const pipelines = assembly.resourcesOfType('AWS::CodePipeline::Pipeline');
    expect(pipelines.map((p) => p.physicalName).sort()).toEqual(
      [
        pipelineName('devcontainers', 'feature', 'hello'),
        pipelineName('devcontainers', 'image', 'base'),
        pipelineName('devcontainers', 'image', 'greeter'),
        pipelineName('devcontainers', 'image', 'tools'),
      ].sort(),
    );
    for (const pipeline of pipelines) {
      expect(pipeline.properties.ArtifactStore).toEqual({ Type: 'S3', Location: artifactBucket.physicalName, EncryptionKey: { Type: 'KMS', Id: s3Key.arn } });
      expect(pipeline.arn).toBe(`arn:aws:codepipeline:${REGION}:${ACCOUNT}:${pipeline.physicalName}`);
    }
  });

  test('gives Ref and Fn::GetAtt Arn the values CloudFormation gives them', () => {
    const greeter = assembly.stack('devcontainers-image-greeter');
    const byPrefix = (prefix: string) => [...greeter.resources.values()].find((r) => r.logicalId.startsWith(prefix))!;
    const pipeline = byPrefix('ImagePipeline74FE7848');
    // The S3 upload rule and the weekly refresh start the pipeline by its ARN, with their roles.
    const uploaded = byPrefix('ImagePipelineSourceUploaded');
    expect(uploaded.properties.Targets).toEqual([{ Id: 'Target0', Arn: pipeline.arn, RoleArn: byPrefix('ImagePipelinePipelineEventsRole').arn }]);
    const refresh = assembly.resourcesOfType('AWS::Scheduler::Schedule').find((s) => s.stack === greeter.name)!;
    expect(refresh.properties.Target).toMatchObject({ Arn: pipeline.arn, RoleArn: byPrefix('ImagePipelineRefreshRole').arn });
    expect(refresh.arn).toBe(`arn:aws:scheduler:${REGION}:${ACCOUNT}:schedule/default/${pipelineName('devcontainers', 'image', 'greeter')}-refresh`);
    // The Release function's role by ARN, its lock table by name.
    const release = byPrefix('ImagePipelineReleaseFunction2');
    const releaseRole = byPrefix('ImagePipelineReleaseFunctionRole5');
    // A role with a path: the ARN carries it, Ref gives the name alone.
    expect(releaseRole.arn).toBe(`arn:aws:iam::${ACCOUNT}:role/devcontainer-factory/devcontainers/image-release/${releaseRole.physicalName}`);
    expect(releaseRole.ref).toBe(releaseRole.physicalName);
    expect(release.properties.Role).toBe(releaseRole.arn);
    expect((release.properties.Environment as { Variables: Record<string, string> }).Variables.DCF_RELEASE_LOCK_TABLE).toBe(
      byPrefix('ImagePipelineRetentionLockTable').physicalName,
    );
    expect(release.arn).toBe(`arn:aws:lambda:${REGION}:${ACCOUNT}:function:${release.physicalName}`);
    // Lambda permissions name the function and the rule by ARN; log groups' Arn ends in :*.
    const permission = byPrefix('ImagePipelineRetentionScheduleAllowEventRule');
    expect(permission.properties).toMatchObject({
      FunctionName: byPrefix('ImagePipelineRetentionFunction').arn,
      SourceArn: byPrefix('ImagePipelineRetentionSchedule8').arn,
    });
    expect(byPrefix('ImagePipelineLogs').arn).toBe(`arn:aws:logs:${REGION}:${ACCOUNT}:log-group:${byPrefix('ImagePipelineLogs').physicalName}:*`);
    // A KMS alias targets its key's ARN; Ref of a key is its id.
    const s3Key = warehouseResource('AWS::KMS::Key', 'WarehouseS3Key8');
    expect(warehouseResource('AWS::KMS::Alias', 'WarehouseS3KeyAlias').properties.TargetKeyId).toBe(s3Key.arn);
    expect(s3Key.ref).toBe(s3Key.physicalName);
    expect(s3Key.arn).toBe(`arn:aws:kms:${REGION}:${ACCOUNT}:key/${s3Key.ref}`);
    // Buckets: lowercase generated names; bucket policies name the bucket by Ref and by ARN.
    const source = warehouseResource('AWS::S3::Bucket', 'WarehouseSourceBucket5');
    expect(source.physicalName).toBe(source.physicalName.toLowerCase());
    expect(warehouseResource('AWS::S3::BucketPolicy', 'WarehouseSourceBucketPolicy').properties).toMatchObject({ Bucket: source.physicalName });
    expect(source.arn).toBe(`arn:aws:s3:::${source.physicalName}`);
    // The registry parameter: account, region and URL suffix.
    expect(warehouseResource('AWS::SSM::Parameter', 'WarehouseRegistryParameter').properties.Value).toBe(`${ACCOUNT}.dkr.ecr.${REGION}.amazonaws.com`);
    expect(warehouse().outputs.get([...warehouse().outputs.keys()].find((k) => k.startsWith('WarehouseRegistryHost'))!)?.value).toBe(
      `${ACCOUNT}.dkr.ecr.${REGION}.amazonaws.com`,
    );
  });

  test('gives the physical id an AwsCustomResource declares to the custom resource, and generated names the stack name and logical id', () => {
    expect(warehouseResource('Custom::EcrAccountSetting', 'WarehouseRegistrySettingsBlobMounting').physicalName).toBe('ecr-account-setting-BLOB_MOUNTING');
    // The scanning merge: the id its handler returns.
    const scanning = warehouseResource('Custom::EcrRegistryScanning', 'WarehouseRegistrySettingsScanning');
    expect(scanning.physicalName).toBe(`ecr-registry-scanning/devcontainers-warehouse/${scanning.logicalId}`);
    const role = warehouseResource('AWS::IAM::Role', 'WarehouseRepositoryCreationRole');
    expect(role.physicalName).toMatch(/^devcontainers-warehouse-WarehouseRepositoryCreation-[0-9A-Z]{12}$/);
    // Deterministic: the same assembly resolves to the same names.
    expect(loadAssembly(dir, ENV).resource('devcontainers-warehouse', role.logicalId).physicalName).toBe(role.physicalName);
  });

  test('finds the asset folder of every Lambda function, the one the asset manifest publishes to its S3 key', () => {
    const functions = assembly.resourcesOfType('AWS::Lambda::Function');
    expect(functions.length).toBeGreaterThanOrEqual(13);
    for (const fn of functions) {
      const folder = assembly.functionAssetDir(fn.stack, fn.logicalId);
      expect(existsSync(join(folder, 'index.js')) || existsSync(join(folder, 'index.mjs'))).toBe(true);
      const code = fn.properties.Code as { S3Bucket: string; S3Key: string };
      expect(code.S3Bucket).toBe(`cdk-hnb659fds-assets-${ACCOUNT}-${REGION}`);
      expect(assembly.asset(code.S3Key, code.S3Bucket)?.path).toBe(folder);
    }
    const release = assembly.lambdaFunction(
      'devcontainers-image-greeter',
      functions.find((f) => f.stack === 'devcontainers-image-greeter' && f.logicalId.startsWith('ImagePipelineReleaseFunction'))!.logicalId,
    );
    expect(release).toMatchObject({ handler: 'index.handler', architectures: ['arm64'], timeoutSeconds: 900 });
    // Under the path the release repositories' policy lets write.
    expect(release.roleArn).toMatch(new RegExp(`^arn:aws:iam::${ACCOUNT}:role/devcontainer-factory/devcontainers/image-release/devcontainers-image-greet`));
    expect(release.environment.DCF_RELEASE_LOCK_TABLE).toMatch(/^devcontainers-image-greeter-ImagePipelineRetentionLockTable/);
  });

  test("exposes each CodeBuild project's inline buildspec, resolved, and its service role", () => {
    const projects = assembly.resourcesOfType('AWS::CodeBuild::Project');
    expect(projects).toHaveLength(14);
    const build = projects.find((p) => p.stack === 'devcontainers-image-greeter' && p.logicalId.startsWith('ImagePipelineBuildAmd64'))!;
    const spec = assembly.buildProject(build.stack, build.logicalId);
    const variables = (spec.buildSpecObject as { env: { variables: Record<string, string> } }).env.variables;
    expect(variables).toMatchObject({
      REGISTRY: `${ACCOUNT}.dkr.ecr.${REGION}.amazonaws.com`,
      REPOSITORY: 'devcontainers/builds/greeter',
      ARCH: 'amd64',
      TOOL_BUCKET: `cdk-hnb659fds-assets-${ACCOUNT}-${REGION}`,
    });
    expect(spec.buildSpec).toContain('devcontainer build');
    // The tool the buildspec downloads is a file asset of the assembly.
    expect(existsSync(assembly.asset(variables.TOOL_KEY, variables.TOOL_BUCKET)?.path ?? '')).toBe(true);
    const role = assembly.resource(
      build.stack,
      [...assembly.stack(build.stack).resources.keys()].find((k) => k.startsWith('ImagePipelineBuildRole') && !k.includes('DefaultPolicy'))!,
    );
    expect(spec).toMatchObject({
      roleArn: role.arn,
      privilegedMode: true,
      timeoutMinutes: 60,
      encryptionKey: warehouseResource('AWS::KMS::Key', 'WarehouseS3Key8').arn,
    });
  });

  describe('refuses what it cannot resolve, naming stack, logical id and path', () => {
    const load = (edit: Parameters<typeof editedCopy>[1]) => () => loadAssembly(editedCopy(dir, edit), ENV);
    const errorOf = (fn: () => unknown): RehearsalError => {
      try {
        fn();
      } catch (e) {
        expect(e).toBeInstanceOf(RehearsalError);
        return e as RehearsalError;
      }
      throw new Error('expected a RehearsalError');
    };

    test('an SSM parameter that no stack writes', () => {
      const error = errorOf(
        load((t) => {
          delete t['devcontainers-warehouse'].Resources[
            logicalIdOf(t['devcontainers-warehouse'], 'AWS::SSM::Parameter', 'WarehouseArtifactBucketNameParameter')
          ];
        }),
      );
      expect(error.message).toMatch(/reads the SSM parameter \/devcontainers\/factory\/artifact-bucket-name, which no stack of the assembly writes/);
      expect(error.stackName).toMatch(/^devcontainers-(image|feature)-/);
      expect(error.path).toMatch(/^Parameters\.SsmParameterValuedevcontainersfactoryartifactbucketname/);
    });

    test('Fn::ImportValue', () => {
      const error = errorOf(
        load((t) => {
          const greeter = t['devcontainers-image-greeter'];
          greeter.Resources[logicalIdOf(greeter, 'AWS::Lambda::Function', 'ImagePipelineReleaseFunction')].Properties.Description = {
            'Fn::ImportValue': 'devcontainers-warehouse:Bucket',
          };
        }),
      );
      expect(error).toMatchObject({
        stackName: 'devcontainers-image-greeter',
        logicalId: expect.stringMatching(/^ImagePipelineReleaseFunction/),
        path: 'Properties.Description.Fn::ImportValue',
      });
      expect(error.message).toMatch(/must not import/);
    });

    test('an attribute it does not model, deep in a policy', () => {
      const error = errorOf(
        load((t) => {
          const greeter = t['devcontainers-image-greeter'];
          const policy = greeter.Resources[logicalIdOf(greeter, 'AWS::IAM::Policy', 'ImagePipelineReleaseFunctionRoleDefaultPolicy')].Properties as {
            PolicyDocument: { Statement: { Resource: unknown }[] };
          };
          policy.PolicyDocument.Statement[0].Resource = { 'Fn::GetAtt': [logicalIdOf(greeter, 'AWS::Logs::LogGroup', 'ImagePipelineLogs'), 'Nonsense'] };
        }),
      );
      expect(error.path).toBe('Properties.PolicyDocument.Statement.0.Resource.Fn::GetAtt');
      expect(error.message).toMatch(/does not model the attribute Nonsense of AWS::Logs::LogGroup/);
    });

    test('a Ref to nothing, and a resource type it does not model', () => {
      expect(
        errorOf(
          load((t) => {
            t['devcontainers-feature-hello'].Resources.CDKMetadata.Properties = { Analytics: { Ref: 'Nowhere' } };
          }),
        ).message,
      ).toMatch(/devcontainers-feature-hello\/CDKMetadata at Properties\.Analytics\.Ref: Ref Nowhere: no parameter, resource or pseudo parameter/);
      expect(
        errorOf(
          load((t) => {
            t['devcontainers-feature-hello'].Resources.Queue = { Type: 'AWS::SQS::Queue', Properties: {} };
          }),
        ).message,
      ).toMatch(/does not model resources of type AWS::SQS::Queue/);
    });

    test('an assembly synthesized for another region', () => {
      expect(() => loadAssembly(dir, { account: ACCOUNT, region: 'us-east-1' })).toThrow(/synthesized for region eu-west-1, not us-east-1/);
    });
  });

  test('evaluates conditions, Fn::If, Fn::Sub, Fn::Select, Fn::Split and AWS::NoValue as CloudFormation does', () => {
    const copy = editedCopy(dir, (t) => {
      const hello = t['devcontainers-feature-hello'];
      hello.Conditions = { InIreland: { 'Fn::Equals': [{ Ref: 'AWS::Region' }, 'eu-west-1'] }, Elsewhere: { 'Fn::Not': [{ Condition: 'InIreland' }] } };
      hello.Resources.Skipped = { Type: 'AWS::SSM::Parameter', Condition: 'Elsewhere', Properties: { Type: 'String', Value: 'x' } } as never;
      hello.Resources.CDKMetadata.Properties = {
        Analytics: {
          'Fn::If': [
            'InIreland',
            { 'Fn::Sub': ['${AWS::StackName}/${Bucket}/${!Literal}', { Bucket: { 'Fn::Select': [1, { 'Fn::Split': ['/', 'a/b/c'] }] } }] },
            'no',
          ],
        },
        Gone: { Ref: 'AWS::NoValue' },
        Zones: { 'Fn::GetAZs': '' },
      };
    });
    const hello = loadAssembly(copy, ENV).stack('devcontainers-feature-hello');
    expect(hello.resources.has('Skipped')).toBe(false);
    expect(hello.resources.get('CDKMetadata')?.properties).toEqual({
      Analytics: 'devcontainers-feature-hello/b/${Literal}',
      Zones: ['eu-west-1a', 'eu-west-1b', 'eu-west-1c'],
    });
  });
});

describe('loadAssembly, with a 32-character namespace', () => {
  const namespace = 'abcdefghijklmnopqrstuvwxyz012345';
  let assembly: Assembly;
  beforeAll(() => {
    // The ECR Public cache prefix <ns>/ecr-public would pass ECR's 30 characters: the app refuses it, so it is off.
    assembly = loadAssembly(synthesizeAssembly({ namespace, images: 'base', features: 'hello', ecrPublicCache: 'false' }), ENV);
  }, 120_000);

  test('leaves no intrinsic function in any resource or output', () => {
    expect([...assembly.stacks.keys()].sort()).toEqual([`${namespace}-feature-hello`, `${namespace}-image-base`, `${namespace}-warehouse`]);
    expectFullyResolved(assembly);
  });

  test('shortens generated names to the services\u2019 limits', () => {
    expectNamesWithinLimits(assembly);
    const roles = assembly.resourcesOfType('AWS::IAM::Role');
    expect(Math.max(...roles.map((r) => r.physicalName.length))).toBe(64);
    expect(assembly.resourcesOfType('AWS::S3::Bucket').every((b) => b.physicalName.length <= 63)).toBe(true);
  });

  test("resolves the pipeline stacks' SSM parameters to the warehouse's", () => {
    const artifactBucket = assembly.resourcesOfType('AWS::S3::Bucket').find((b) => b.logicalId.startsWith('WarehouseArtifactBucket'))!;
    const pipeline = assembly.resourcesOfType('AWS::CodePipeline::Pipeline').find((p) => p.stack === `${namespace}-image-base`)!;
    expect(pipeline.physicalName).toBe(pipelineName(namespace, 'image', 'base'));
    expect((pipeline.properties.ArtifactStore as { Location: string }).Location).toBe(artifactBucket.physicalName);
  });
});
