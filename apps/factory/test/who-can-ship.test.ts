import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { App, type Stack } from 'aws-cdk-lib';
import { Annotations, Match, Template } from 'aws-cdk-lib/assertions';
import { CatalogError, readCatalog } from '../src/catalog';
import { addFactory } from '../src/factory';
import { loadAssembly } from '../rehearsal/assembly';
import { IamModel, type PolicyDocument } from '../rehearsal/iam';
import { ACCOUNT, ENV, removeAssemblies, synthesizeAssembly } from './rehearsal/synthesized-assembly';

// Who can ship: the pushers of -c pushers=…, the only principals the source bucket takes a
// configuration from; and the images and features whose catalogue entry asks for an approval.

const dirs: string[] = [];
afterAll(() => {
  removeAssemblies();
  dirs.splice(0).forEach((d) => rmSync(d, { recursive: true, force: true }));
});
const tempDir = (prefix: string) => (dirs.push(mkdtempSync(join(tmpdir(), prefix))), dirs[dirs.length - 1]);

// eslint-disable-next-line @typescript-eslint/no-require-imports
const cdkJsonContext: Record<string, unknown> = require('../cdk.json').context;
const CI = 'arn:aws:iam::123456789012:role/platform/ci';
const ALICE = 'arn:aws:iam::123456789012:user/alice';

function synthFactory(context: Record<string, unknown>) {
  const app = new App({ outdir: tempDir('factory-'), context: cdkJsonContext });
  const stacks = addFactory(
    app,
    readCatalog((k) => context[k]),
    { env: { account: '123456789012', region: 'eu-west-1' } },
  );
  // Synthesis runs cdk-nag's AwsSolutionsChecks and throws on any unacknowledged finding.
  app.synth();
  return stacks;
}

describe('-c pushers', () => {
  const read = (pushers: unknown) => readCatalog((k) => ({ images: 'python', features: '', pushers })[k]);

  test('is a comma-separated list of role and user ARNs, spaces ignored', () => {
    expect(read(` ${CI}, ${ALICE}`).pushers).toEqual([CI, ALICE]);
    expect(read([CI]).pushers).toEqual([CI]);
  });

  test('left out, or empty, means no pushers', () => {
    expect(read(undefined)).not.toHaveProperty('pushers');
    expect(read('')).not.toHaveProperty('pushers');
  });

  test.each<[string, unknown, RegExp]>([
    [
      'an account',
      'arn:aws:iam::123456789012:root',
      /-c pushers: 'arn:aws:iam::123456789012:root' is not an IAM role or user ARN: pass each as arn:aws:iam::<account>:role\/<name>/,
    ],
    ['a role name', 'platform-ci', /'platform-ci' is not an IAM role or user ARN/],
    ['a session', 'arn:aws:sts::123456789012:assumed-role/ci/build-7', /that is a session: give the role it is of/],
    ['a group', 'arn:aws:iam::123456789012:group/devs', /is not an IAM role or user ARN/],
    ['a number', 42, /-c pushers must be a comma-separated list of IAM role and user ARNs, got 42/],
    ['the same role twice', `${CI},${CI}`, /-c pushers lists 'arn:aws:iam::123456789012:role\/platform\/ci' twice/],
  ])('refuses %s with what to pass', (_what, value, message) => {
    expect(() => read(value)).toThrow(CatalogError);
    expect(() => read(value)).toThrow(message);
  });
});

describe('the factory app', () => {
  let stacks: ReturnType<typeof synthFactory>;
  beforeAll(() => {
    const dir = tempDir('catalog-');
    const catalog = join(dir, 'catalog.yaml');
    writeFileSync(
      catalog,
      ['namespace: acme', 'images:', '  - id: python', '    approval: true', '  - node', 'features:', '  - id: hello', '    approval: true', '  - world'].join(
        '\n',
      ),
    );
    stacks = synthFactory({ catalog, pushers: `${CI},${ALICE}` });
  });

  test('lets only the pushers change a configuration: the source bucket denies every other principal', () => {
    const template = Template.fromStack(stacks.warehouse);
    template.hasResourceProperties('AWS::S3::BucketPolicy', {
      PolicyDocument: {
        Statement: Match.arrayWith([
          Match.objectLike({
            Sid: 'OnlyGrantedPushersChangeConfigurations',
            Effect: 'Deny',
            Principal: '*',
            Action: Match.arrayWith(['s3:DeleteObject', 's3:DeleteObjectVersion', 's3:PutObject']),
            Condition: { ArnNotLike: { 'aws:PrincipalArn': [CI, ALICE] } },
          }),
        ]),
      },
    });
  });

  test('grants each pusher what dcf push, status and list need, in a policy of the warehouse stack on the role or user', () => {
    const policies = Object.values(Template.fromStack(stacks.warehouse).findResources('AWS::IAM::Policy'));
    const ci = policies.filter((p) => JSON.stringify(p.Properties.Roles ?? []).includes('"ci"'));
    const alice = policies.filter((p) => JSON.stringify(p.Properties.Users ?? []).includes('"alice"'));
    expect(ci).toHaveLength(1);
    expect(alice).toHaveLength(1);
    const actions = ci[0].Properties.PolicyDocument.Statement.flatMap((s: { Action: string | string[] }) => [s.Action].flat());
    expect(actions).toEqual(expect.arrayContaining(['s3:PutObject', 'kms:GenerateDataKey', 'ssm:GetParameters', 'codepipeline:GetPipelineState']));
    expect(actions.some((a: string) => /Delete|StartPipelineExecution|PutImage/.test(a))).toBe(false);
  });

  test('has an Approval stage before Release and Publish only where the catalogue asks for one', () => {
    const stages = (stack: Stack) =>
      (Object.values(Template.fromStack(stack).findResources('AWS::CodePipeline::Pipeline'))[0].Properties.Stages as { Name: string }[]).map((s) => s.Name);
    expect(stages(stacks.images.get('python')!)).toEqual(['Source', 'Prepare', 'Build', 'Manifest', 'Test', 'Approval', 'Release']);
    expect(stages(stacks.images.get('node')!)).not.toContain('Approval');
    expect(stages(stacks.features.get('hello')!)).toEqual(['Source', 'Test', 'Approval', 'Publish']);
    expect(stages(stacks.features.get('world')!)).not.toContain('Approval');
  });

  test('without pushers it deploys, and warns that nobody can push', () => {
    const none = synthFactory({ namespace: 'acme', images: 'python', features: '' });
    Annotations.fromStack(none.warehouse).hasWarning(
      '/acme-warehouse',
      Match.stringLikeRegexp('no pushers: .*every dcf push is denied: deploy with -c pushers='),
    );
    expect(JSON.stringify(Template.fromStack(none.warehouse).toJSON())).toContain('OnlyGrantedPushersChangeConfigurations');
  });

  test('an IAM Identity Center role is let through the bucket, gets no policy, and a warning says its permission set must allow the rest', () => {
    const sso = 'arn:aws:iam::123456789012:role/aws-reserved/sso.amazonaws.com/eu-west-1/AWSReservedSSO_Developers_0123456789abcdef';
    const withSso = synthFactory({ namespace: 'acme', images: 'python', features: '', pushers: sso });
    const template = Template.fromStack(withSso.warehouse);
    expect(JSON.stringify(template.findResources('AWS::S3::BucketPolicy'))).toContain(sso);
    expect(JSON.stringify(template.findResources('AWS::IAM::Policy'))).not.toContain('AWSReservedSSO');
    Annotations.fromStack(withSso.warehouse).hasWarning('*', Match.stringLikeRegexp('is a role of IAM Identity Center.*its permission set must allow'));
  });
});

describe('the source bucket as AWS evaluates it (iam-simulate, on the synthesized policies)', () => {
  const PUSHER = `arn:aws:iam::${ACCOUNT}:role/teams/pusher`;
  const ADMIN = `arn:aws:iam::${ACCOUNT}:role/admin`;
  let iam: IamModel;
  let source: string;
  let key: string;
  beforeAll(async () => {
    // GIVEN the example catalogue with one pusher, and an administrator who is none
    const assembly = loadAssembly(synthesizeAssembly({ catalog: '../../examples/catalog.yaml', pushers: PUSHER }), ENV);
    source = assembly.resourcesOfType('AWS::S3::Bucket').find((b) => b.logicalId.startsWith('WarehouseSourceBucket'))!.arn as string;
    key = assembly.resourcesOfType('AWS::KMS::Key').find((k) => k.logicalId.startsWith('WarehouseS3Key'))!.arn as string;
    const admin = { Version: '2012-10-17', Statement: [{ Effect: 'Allow', Action: '*', Resource: '*' }] } as PolicyDocument;
    // The pusher has no policy of its own: only what the assembly grants it.
    iam = await IamModel.fromAssembly(assembly, { principals: { [PUSHER]: [], [ADMIN]: [admin] } });
  }, 180_000);
  const decide = (principal: string, action: string, resource: string, context?: Record<string, string>) =>
    iam.authorize({ principal, action, resource, ...(context && { context }) });

  test("an administrator's s3:PutObject of a configuration is denied by the bucket policy", async () => {
    const decision = await decide(ADMIN, 's3:PutObject', `${source}/devcontainers/images/greeter.zip`);
    expect(decision.allowed).toBe(false);
    expect(decision.why).toMatch(/explicitly denied by the bucket policy/);
  });

  test("an administrator's deletes of a configuration or of a version of it are denied too", async () => {
    expect((await decide(ADMIN, 's3:DeleteObject', `${source}/devcontainers/features/hello.zip`)).allowed).toBe(false);
    expect((await decide(ADMIN, 's3:DeleteObjectVersion', `${source}/devcontainers/images/greeter.zip`)).allowed).toBe(false);
  });

  test('the pusher may upload a configuration, encrypting it through S3', async () => {
    expect((await decide(PUSHER, 's3:PutObject', `${source}/devcontainers/images/greeter.zip`)).allowed).toBe(true);
    expect((await decide(PUSHER, 's3:PutObject', `${source}/devcontainers/features/hello.zip`)).allowed).toBe(true);
    expect((await decide(PUSHER, 'kms:GenerateDataKey', key, { 'kms:ViaService': 's3.eu-west-1.amazonaws.com' })).allowed).toBe(true);
  });

  test('the pusher may not delete, nor write elsewhere, nor use the key outside S3', async () => {
    expect((await decide(PUSHER, 's3:DeleteObject', `${source}/devcontainers/images/greeter.zip`)).allowed).toBe(false);
    expect((await decide(PUSHER, 's3:PutObject', `${source}/other/greeter.zip`)).allowed).toBe(false);
    expect((await decide(PUSHER, 'kms:Decrypt', key)).allowed).toBe(false);
  });

  test('the administrator still manages the bucket (its policy among it) and reads configurations', async () => {
    expect((await decide(ADMIN, 's3:PutBucketPolicy', source)).allowed).toBe(true);
    expect((await decide(ADMIN, 's3:GetObject', `${source}/devcontainers/images/greeter.zip`)).allowed).toBe(true);
  });
});
