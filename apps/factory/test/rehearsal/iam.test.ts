import { loadAssembly, type Assembly } from '../../rehearsal/assembly';
import { RehearsalError } from '../../rehearsal/errors';
import { artifactSessionPolicy } from '../../rehearsal/action-executors';
import { IamModel, assumedRoleArn, principalOf } from '../../rehearsal/iam';
import { ACCOUNT, ENV, REGION, editedCopy, logicalIdOf, removeAssemblies, synthesizeAssembly } from './synthesized-assembly';
import { artifactPrefix, pipelineName } from '@devcontainer-factory/core';

afterAll(removeAssemblies);

const GREETER = 'devcontainers-image-greeter';
/** Where CodePipeline keeps the greeter pipeline's artifacts. */
const GREETER_ARTIFACTS = artifactPrefix(pipelineName('devcontainers', 'image', 'greeter'));
const repository = (name: string) => `arn:aws:ecr:${REGION}:${ACCOUNT}:repository/devcontainers/${name}`;

describe('IamModel, on the example catalogue as cdk synth writes it', () => {
  let dir: string;
  let assembly: Assembly;
  let iam: IamModel;
  beforeAll(async () => {
    dir = synthesizeAssembly({ catalog: '../../examples/catalog.yaml' });
    assembly = loadAssembly(dir, ENV);
    iam = await IamModel.fromAssembly(assembly);
  }, 120_000);

  /** The ARN of the one resource of `type` in `stack` whose logical id starts with `prefix`. */
  const arnOf = (stack: string, type: string, prefix: string) => {
    const found = assembly.resourcesOfType(type).filter((r) => r.stack === stack && r.logicalId.startsWith(prefix));
    if (found.length !== 1) throw new Error(`expected one ${type} ${stack}/${prefix}*, found ${found.length}`);
    return found[0].arn as string;
  };
  const role = (prefix: string, stack = GREETER) => arnOf(stack, 'AWS::IAM::Role', prefix);
  const warehouse = (type: string, prefix: string) => arnOf('devcontainers-warehouse', type, prefix);
  const releaseRole = () => role('ImagePipelineReleaseFunctionRole');
  const allowed = async (principal: string, action: string, resource: string, context?: Record<string, string | string[]>) =>
    (await iam.authorize({ principal, action, resource, ...(context && { context }) })).allowed;

  test('models every role of the assembly, with its policies', () => {
    expect(iam.principalArns()).toHaveLength(assembly.resourcesOfType('AWS::IAM::Role').length);
    expect(iam.principalArns().length).toBeGreaterThan(30);
    // The AwsCustomResource provider's role: its AWS managed AWSLambdaBasicExecutionRole is modelled.
    const provider = role('AWS679f53fac002430cb0da5b7982bd2287ServiceRole', 'devcontainers-warehouse');
    expect(iam.actionsOf(provider)).toEqual(['ecr:PutAccountSetting', 'logs:CreateLogGroup', 'logs:CreateLogStream', 'logs:PutLogEvents']);
  });

  describe('ECR: only Release writes a release repository', () => {
    test('the Release role of greeter may ecr:PutImage on its release repository devcontainers/images/greeter', async () => {
      expect(await allowed(releaseRole(), 'ecr:PutImage', repository('images/greeter'))).toBe(true);
    });

    test("the Release role of greeter may not ecr:PutImage on base's release repository devcontainers/images/base", async () => {
      expect(await allowed(releaseRole(), 'ecr:PutImage', repository('images/base'))).toBe(false);
    });

    test('the Build role may push to staging but not ecr:PutImage on the release repository', async () => {
      expect(await allowed(role('ImagePipelineBuildRole'), 'ecr:PutImage', repository('builds/greeter'))).toBe(true);
      expect(await allowed(role('ImagePipelineBuildRole'), 'ecr:PutImage', repository('images/greeter'))).toBe(false);
      expect(await allowed(role('ImagePipelineTestRole'), 'ecr:PutImage', repository('builds/greeter'))).toBe(false);
    });

    test('the Release role may ecr:DescribeImageScanFindings on the staging repository devcontainers/builds/greeter (the vulnerability gate)', async () => {
      expect(await allowed(releaseRole(), 'ecr:DescribeImageScanFindings', repository('builds/greeter'))).toBe(true);
    });

    test('the Release role may ecr:DescribeImageScanFindings on its staging and its release repository (the gate reads a build where it is)', async () => {
      expect(await allowed(releaseRole(), 'ecr:DescribeImageScanFindings', repository('builds/greeter'))).toBe(true);
      expect(await allowed(releaseRole(), 'ecr:DescribeImageScanFindings', repository('images/greeter'))).toBe(true);
      expect(await allowed(releaseRole(), 'ecr:DescribeImageScanFindings', repository('images/base'))).toBe(false);
    });

    test('an assumed-role session of the Release role has the role\u2019s permissions', async () => {
      const session = assumedRoleArn(releaseRole(), 'release-1');
      expect(session).toMatch(/^arn:aws:sts::111111111111:assumed-role\/devcontainers-image-greet[^/]*\/release-1$/);
      expect(await allowed(session, 'ecr:PutImage', repository('images/greeter'))).toBe(true);
      expect(await allowed(session, 'ecr:PutImage', repository('images/base'))).toBe(false);
    });
  });

  describe('S3 and KMS', () => {
    const artifactBucket = () => warehouse('AWS::S3::Bucket', 'WarehouseArtifactBucket');
    const s3Key = () => warehouse('AWS::KMS::Key', 'WarehouseS3Key8');
    const pipelineRole = () => role('ImagePipelinePipelineRole');

    test("the artifact bucket's policy denies a request without TLS, which the pipeline role's identity policy allows", async () => {
      const object = `${artifactBucket()}/${GREETER_ARTIFACTS}/Source/abc.zip`;
      expect(await allowed(pipelineRole(), 's3:GetObject', object)).toBe(true);
      const decision = await iam.authorize({
        principal: pipelineRole(),
        action: 's3:GetObject',
        resource: object,
        context: { 'aws:SecureTransport': 'false' },
      });
      expect(decision.allowed).toBe(false);
      expect(decision.why).toMatch(
        /explicitly denied by the bucket policy of devcontainers-warehouse-warehouseartifactbucket\S+ statement 1 \(Bool aws:SecureTransport false\)/,
      );
      expect(await allowed(pipelineRole(), 's3:GetObject', object, { 's3:TlsVersion': '1.1' })).toBe(false);
    });

    test('the pipeline role may s3:PutObject into the artifact bucket and kms:GenerateDataKey with its key (the key policy delegates to IAM)', async () => {
      expect(await allowed(pipelineRole(), 's3:PutObject', `${artifactBucket()}/${GREETER_ARTIFACTS}/Source/abc.zip`)).toBe(true);
      const decision = await iam.authorize({ principal: pipelineRole(), action: 'kms:GenerateDataKey', resource: s3Key() });
      expect(decision).toEqual({
        allowed: true,
        why: expect.stringMatching(
          /allowed by .*ImagePipelinePipelineRoleDefaultPolicy\w+ statement 2 and the key policy of arn:aws:kms:\S+ statement 1, which delegates to IAM/,
        ),
      });
      // By the key's alias, as the SDK may name it.
      expect(await allowed(pipelineRole(), 'kms:GenerateDataKey', 'alias/devcontainers/factory/s3')).toBe(true);
      expect(await allowed(pipelineRole(), 's3:PutObject', `${warehouse('AWS::S3::Bucket', 'WarehouseSourceBucket')}/devcontainers/images/greeter.zip`)).toBe(
        false,
      );
    });

    test("a pipeline's roles reach only its own artifacts: no other pipeline's, of the namespace or any other", async () => {
      const base = artifactPrefix(pipelineName('devcontainers', 'image', 'base'));
      const hello = artifactPrefix(pipelineName('devcontainers', 'feature', 'hello'));
      for (const prefix of [base, hello]) {
        const object = `${artifactBucket()}/${prefix}/Source/abc.zip`;
        expect(await allowed(pipelineRole(), 's3:PutObject', object)).toBe(false);
        expect(await allowed(pipelineRole(), 's3:DeleteObject', object)).toBe(false);
        expect(await allowed(pipelineRole(), 's3:GetObject', object)).toBe(false);
        expect(await allowed(role('ImagePipelineBuildRole'), 's3:GetObject', object)).toBe(false);
      }
      expect(await allowed(role('ImagePipelineBuildRole'), 's3:GetObject', `${artifactBucket()}/${GREETER_ARTIFACTS}/Source/abc.zip`)).toBe(true);
    });

    test("a Lambda job's artifact credentials (a session of the pipeline role with a session policy) reach its input and output artifacts only", async () => {
      // GIVEN Manifest's job: the Source and Inputs artifacts in, nothing out; Prepare's: Source in, Inputs out
      const at = (key: string) => ({ bucket: artifactBucket().replace('arn:aws:s3:::', ''), key: `${GREETER_ARTIFACTS}/${key}` });
      const manifest = assumedRoleArn(pipelineRole(), 'codepipeline-job-manifest');
      const prepare = assumedRoleArn(pipelineRole(), 'codepipeline-job-prepare');
      iam.declareSession(manifest, artifactSessionPolicy({ region: REGION, inputs: [at('Source/aaa'), at('Inputs/bbb')], outputs: [], artifactKey: s3Key() }));
      iam.declareSession(prepare, artifactSessionPolicy({ region: REGION, inputs: [at('Source/aaa')], outputs: [at('Inputs/bbb')], artifactKey: s3Key() }));
      const object = (key: string) => `${artifactBucket()}/${GREETER_ARTIFACTS}/${key}`;
      const viaS3 = { 'kms:ViaService': `s3.${REGION}.amazonaws.com` };
      // THEN each reads its inputs and writes its outputs, with the key through S3
      expect(await allowed(manifest, 's3:GetObject', object('Inputs/bbb'))).toBe(true);
      expect(await allowed(manifest, 's3:GetObject', object('Source/aaa'))).toBe(true);
      expect(await allowed(prepare, 's3:PutObject', object('Inputs/bbb'))).toBe(true);
      expect(await allowed(prepare, 'kms:GenerateDataKey', s3Key(), viaS3)).toBe(true);
      expect(await allowed(manifest, 'kms:Decrypt', s3Key(), viaS3)).toBe(true);
      // AND nothing else the pipeline role may: another artifact, a write of an input, the key outside S3
      expect(await allowed(pipelineRole(), 's3:GetObject', object('Build/ccc'))).toBe(true);
      expect(await allowed(manifest, 's3:GetObject', object('Build/ccc'))).toBe(false);
      expect(await allowed(manifest, 's3:PutObject', object('Source/aaa'))).toBe(false);
      expect(await allowed(prepare, 's3:GetObject', object('Inputs/bbb'))).toBe(false);
      expect(await allowed(manifest, 'kms:Decrypt', s3Key())).toBe(false);
      expect(() => iam.declareSession(pipelineRole(), artifactSessionPolicy({ region: REGION, inputs: [], outputs: [] }))).toThrow(
        /is not an assumed-role session ARN/,
      );
    });

    test('a role without access to the key is denied kms:Decrypt', async () => {
      const decision = await iam.authorize({ principal: role('ImagePipelinePipelineEventsRole'), action: 'kms:Decrypt', resource: s3Key() });
      expect(decision.allowed).toBe(false);
      expect(decision.why).toMatch(/grant no kms:Decrypt .* delegates to IAM, so an identity policy must allow it/);
      expect(await allowed(role('ImagePipelineBuildRole'), 'kms:Decrypt', s3Key())).toBe(true);
      expect(await allowed(role('ImagePipelineBuildRole'), 'kms:Encrypt', s3Key())).toBe(false);
    });

    test('a key policy that does not delegate to IAM: an identity grant alone is not enough, a grant in the key policy is', async () => {
      const pipeline = pipelineRole();
      const events = role('ImagePipelinePipelineEventsRole');
      const copy = editedCopy(dir, (t) => {
        const key = t['devcontainers-warehouse'].Resources[logicalIdOf(t['devcontainers-warehouse'], 'AWS::KMS::Key', 'WarehouseS3Key')];
        key.Properties.KeyPolicy = {
          Version: '2012-10-17',
          Statement: [{ Effect: 'Allow', Principal: { AWS: events }, Action: 'kms:Decrypt', Resource: '*' }],
        };
      });
      const strict = await IamModel.fromAssembly(loadAssembly(copy, ENV));
      const denied = await strict.authorize({ principal: pipeline, action: 'kms:GenerateDataKey', resource: s3Key() });
      expect(denied.allowed).toBe(false);
      expect(denied.why).toMatch(/neither allows the principal nor delegates to IAM \(no statement allows arn:aws:iam::111111111111:root\)/);
      // The key policy names the Events role, which has no IAM grant on the key: the key policy alone allows it.
      expect((await strict.authorize({ principal: events, action: 'kms:Decrypt', resource: s3Key() })).allowed).toBe(true);
    });
  });

  describe('trust and resource policies of services', () => {
    test('lambda.amazonaws.com may assume the Release function\u2019s role, codebuild.amazonaws.com may not', async () => {
      // The trust policy asks for the caller's account, as Lambda gives it.
      expect((await iam.assume('lambda.amazonaws.com', releaseRole(), { 'aws:SourceAccount': ACCOUNT })).allowed).toBe(true);
      expect((await iam.assume('lambda.amazonaws.com', releaseRole(), { 'aws:SourceAccount': '222222222222' })).allowed).toBe(false);
      const decision = await iam.assume('codebuild.amazonaws.com', releaseRole(), { 'aws:SourceAccount': ACCOUNT });
      expect(decision.allowed).toBe(false);
      expect(decision.why).toMatch(
        /^codebuild\.amazonaws\.com may not sts:AssumeRole on arn:aws:iam::111111111111:role\/\S+: no statement of the trust policy/,
      );
    });

    test('the scheduler may assume the refresh role only for its own schedule in its own account', async () => {
      const refresh = role('ImagePipelineRefreshRole');
      const schedule = assembly.resourcesOfType('AWS::Scheduler::Schedule').find((s) => s.stack === GREETER)!.arn as string;
      expect((await iam.assume('scheduler.amazonaws.com', refresh)).allowed).toBe(false);
      expect((await iam.assume('scheduler.amazonaws.com', refresh, { 'aws:SourceAccount': ACCOUNT, 'aws:SourceArn': schedule })).allowed).toBe(true);
      expect(
        (await iam.assume('scheduler.amazonaws.com', refresh, { 'aws:SourceAccount': ACCOUNT, 'aws:SourceArn': schedule.replace('greeter', 'base') })).allowed,
      ).toBe(false);
    });

    test('EventBridge may invoke the retention function from its rule only (the Lambda permission)', async () => {
      const fn = arnOf(GREETER, 'AWS::Lambda::Function', 'ImagePipelineRetentionFunction');
      const rule = arnOf(GREETER, 'AWS::Events::Rule', 'ImagePipelineRetentionSchedule');
      expect(await allowed('events.amazonaws.com', 'lambda:InvokeFunction', fn, { 'aws:SourceArn': rule })).toBe(true);
      expect(
        await allowed('events.amazonaws.com', 'lambda:InvokeFunction', fn, {
          'aws:SourceArn': arnOf(GREETER, 'AWS::Events::Rule', 'ImagePipelineSourceUploaded'),
        }),
      ).toBe(false);
      expect(
        await allowed('events.amazonaws.com', 'lambda:InvokeFunction', arnOf(GREETER, 'AWS::Lambda::Function', 'ImagePipelineReleaseFunction'), {
          'aws:SourceArn': rule,
        }),
      ).toBe(false);
    });
  });

  test("a denied decision's why names the principal, the action and the resource", async () => {
    const decision = await iam.authorize({ principal: role('ImagePipelineTestRole'), action: 'ecr:PutImage', resource: repository('images/greeter') });
    expect(decision.allowed).toBe(false);
    expect(decision.why).toContain(role('ImagePipelineTestRole'));
    expect(decision.why).toContain('ecr:PutImage');
    expect(decision.why).toContain(repository('images/greeter'));
    // Two reasons: no statement of the Test role grants it, and the release repository's policy denies every writer but Release.
    expect(decision.why).toMatch(/may not .*: explicitly denied by the repository policy/);
  });

  test('refuses a principal that is neither a role of the assembly nor declared, and a request iam-simulate cannot evaluate', async () => {
    await expect(
      iam.authorize({ principal: `arn:aws:iam::${ACCOUNT}:role/nobody`, action: 'ecr:PutImage', resource: repository('images/greeter') }),
    ).rejects.toThrow(RehearsalError);
    await expect(iam.authorize({ principal: releaseRole(), action: 'ecr:NoSuchAction', resource: repository('images/greeter') })).rejects.toThrow(
      /invalid\.action/,
    );
    expect(principalOf('lambda.amazonaws.com')).toEqual({ kind: 'service', arn: 'lambda.amazonaws.com', service: 'lambda.amazonaws.com' });
  });

  test('a declared principal (the person running dcf) is evaluated with its own policies', async () => {
    const person = `arn:aws:iam::${ACCOUNT}:user/engineer`;
    const source = warehouse('AWS::S3::Bucket', 'WarehouseSourceBucket');
    const withPerson = await IamModel.fromAssembly(assembly, {
      principals: { [person]: [{ Version: '2012-10-17', Statement: [{ Effect: 'Allow', Action: 's3:GetObject', Resource: `${source}/devcontainers/*` }] }] },
    });
    expect((await withPerson.authorize({ principal: person, action: 's3:GetObject', resource: `${source}/devcontainers/images/greeter.zip` })).allowed).toBe(
      true,
    );
    expect((await withPerson.authorize({ principal: person, action: 's3:GetObject', resource: `${source}/other/greeter.zip` })).allowed).toBe(false);
  });

  test('fails clearly on an AWS managed policy it does not model', async () => {
    const copy = editedCopy(dir, (t) => {
      const greeter = t[GREETER];
      greeter.Resources[logicalIdOf(greeter, 'AWS::IAM::Role', 'ImagePipelineTestRole')].Properties.ManagedPolicyArns = [
        'arn:aws:iam::aws:policy/AdministratorAccess',
      ];
    });
    await expect(IamModel.fromAssembly(loadAssembly(copy, ENV))).rejects.toThrow(
      /ImagePipelineTestRole\w+ at Properties\.ManagedPolicyArns\.0: attaches the AWS managed policy arn:aws:iam::aws:policy\/AdministratorAccess, which the rehearsal does not model/,
    );
  });

  test('report(): lists the grants a role never used, and not the ones it used', async () => {
    const fresh = await IamModel.fromAssembly(assembly);
    const release = releaseRole();
    await fresh.authorize({ principal: release, action: 'ecr:GetAuthorizationToken', resource: '*' });
    await fresh.authorize({ principal: release, action: 'ecr:PutImage', resource: repository('images/greeter') });
    await fresh.authorize({ principal: release, action: 'ecr:PutImage', resource: repository('images/greeter') });
    await fresh.authorize({ principal: release, action: 'ecr:PutImage', resource: repository('images/base') });
    await fresh.authorize({ principal: release, action: 'ecr:PutImage', resource: repository('images/base') });
    await fresh.authorize({
      principal: role('ImagePipelinePipelineRole'),
      action: 's3:GetObjectVersion',
      resource: `${warehouse('AWS::S3::Bucket', 'WarehouseArtifactBucket')}/${GREETER_ARTIFACTS}/x.zip`,
    });

    const report = fresh.report();
    expect(report).toMatchObject({ calls: 6, allowed: 4 });
    expect(report.denied).toEqual([
      expect.objectContaining({ principal: release, action: 'ecr:PutImage', resource: repository('images/base'), allowed: false, count: 2 }),
    ]);

    const usage = report.roles.find((r) => r.roleArn === release)!;
    expect(usage).toMatchObject({ stack: GREETER, calls: 5 });
    const unused = usage.unused.map((g) => `${g.statement} ${g.action} ${g.resource}`);
    expect(unused).toContain(`3 ecr:BatchGetImage ${repository('images/greeter')}`);
    expect(unused.filter((u) => u.endsWith(` ecr:DescribeImageScanFindings ${repository('builds/greeter')}`))).toHaveLength(1);
    expect(unused).toContain('2 codepipeline:PutJobSuccessResult *');
    expect(unused).not.toContain(`3 ecr:PutImage ${repository('images/greeter')}`);
    expect(unused).not.toContain('2 ecr:GetAuthorizationToken *');
    expect(usage.granted - usage.unused.length).toBe(2);

    // A wildcard grant expands into its actions: s3:GetObject* used as s3:GetObjectVersion, its other actions not.
    const pipeline = report.roles.find((r) => r.roleArn === role('ImagePipelinePipelineRole'))!;
    const objectGrants = pipeline.unused.filter((g) => g.statement === 1 && g.resource.endsWith('/*')).map((g) => g.action);
    expect(objectGrants).toEqual(expect.arrayContaining(['s3:GetObject', 's3:GetObjectAcl', 's3:GetObjectTagging']));
    expect(objectGrants).not.toContain('s3:GetObjectVersion');
    // Roles that made no call have every grant unused.
    const events = report.roles.find((r) => r.roleArn === role('ImagePipelinePipelineEventsRole'))!;
    expect(events).toMatchObject({ calls: 0, granted: 1, unused: [expect.objectContaining({ action: 'codepipeline:StartPipelineExecution' })] });
  });

  test('actionsOf(role) expands wildcard actions through the action catalogue', () => {
    const actions = iam.actionsOf(role('ImagePipelinePipelineRole'));
    expect(actions).toEqual(
      expect.arrayContaining(['s3:GetObject', 's3:GetObjectVersion', 's3:ListBucket', 'kms:GenerateDataKey', 'kms:ReEncryptFrom', 'codebuild:StartBuild']),
    );
    expect(actions).not.toContain('s3:PutBucketPolicy');
    expect(actions.every((a) => !a.includes('*'))).toBe(true);
  });

  test('times 1,000 authorize calls over the assembly\u2019s roles (printed, not asserted)', async () => {
    const timed = await IamModel.fromAssembly(assembly);
    const roles = timed.principalArns();
    const requests = roles.flatMap((principal) =>
      ['ecr:PutImage', 'ecr:BatchGetImage', 's3:GetObject', 'kms:Decrypt'].flatMap((action) =>
        [
          repository('images/greeter'),
          repository('builds/base'),
          `${warehouse('AWS::S3::Bucket', 'WarehouseArtifactBucket')}/x/y.zip`,
          warehouse('AWS::KMS::Key', 'WarehouseS3Key8'),
        ]
          .filter((resource) => resource.split(':')[2] === action.split(':')[0])
          .map((resource) => ({ principal, action, resource })),
      ),
    );
    let started = performance.now();
    for (const request of requests) await timed.authorize(request);
    const cold = performance.now() - started;
    started = performance.now();
    for (let i = 0; i < 1000; i++) await timed.authorize(requests[i % requests.length]);
    const warm = performance.now() - started;
    console.log(
      `iam: ${requests.length} distinct simulations in ${cold.toFixed(0)} ms (${(cold / requests.length).toFixed(2)} ms each); ` +
        `1,000 authorize calls over them, cached: ${warm.toFixed(0)} ms; roles: ${roles.length}`,
    );
    expect(timed.report().calls).toBe(requests.length + 1000);
  });
});
