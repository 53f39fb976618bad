import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { App, Stack, Validations } from 'aws-cdk-lib';
import * as iam from 'aws-cdk-lib/aws-iam';
import { AwsSolutionsChecks } from 'cdk-nag';
import { pipelineName } from '@devcontainer-factory/core';
import { FeaturePipeline } from '@devcontainer-factory/feature-pipeline';
import { ImagePipeline } from '@devcontainer-factory/image-pipeline';
import { Warehouse } from '@devcontainer-factory/warehouse';
import { loadAssembly } from '../rehearsal/assembly';
import { IamModel } from '../rehearsal/iam';
import { ACCOUNT, ENV, REGION } from './rehearsal/synthesized-assembly';

// One grant per role a person plays with dcf (push, watch, read releases), on the warehouse
// and on each pipeline, judged as AWS judges them (iam-simulate on the synthesized policies,
// the source bucket's policy included): each allows the calls of its dcf commands, and nothing
// of another image or another role.

const dir = mkdtempSync(join(tmpdir(), 'dcf-roles-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

const roleArn = (name: string) => `arn:aws:iam::${ACCOUNT}:role/${name}`;
const pipelineArn = (kind: 'image' | 'feature', id: string) => `arn:aws:codepipeline:${REGION}:${ACCOUNT}:${pipelineName('acme', kind, id)}`;
const repositoryArn = (name: string) => `arn:aws:ecr:${REGION}:${ACCOUNT}:repository/${name}`;
const parameter = `arn:aws:ssm:${REGION}:${ACCOUNT}:parameter/acme/factory/source-bucket-name`;

let model: IamModel;
let source: string;
beforeAll(async () => {
  const app = new App({ outdir: dir });
  const stack = new Stack(app, 'Team', { env: ENV });
  const warehouse = new Warehouse(stack, 'Warehouse', { namespace: 'acme' });
  const python = new ImagePipeline(stack, 'Python', { warehouse, imageId: 'python' });
  new ImagePipeline(stack, 'Node', { warehouse, imageId: 'node' });
  const hello = new FeaturePipeline(stack, 'Hello', { warehouse, featureId: 'hello' });
  const role = (name: string) => new iam.Role(stack, name, { roleName: name, assumedBy: new iam.AccountRootPrincipal() });
  warehouse.grantWatch(role('NamespaceWatcher'));
  warehouse.grantReadReleases(role('NamespaceReader'));
  python.grantPushConfiguration(role('PythonPusher'));
  python.grantReadReleases(role('PythonReader'));
  hello.grantWatch(role('HelloWatcher'));
  // Every grant is cdk-nag clean: synthesis throws on a finding left unacknowledged.
  Validations.of(app).addPlugins(new AwsSolutionsChecks(app));
  app.synth();
  const assembly = loadAssembly(dir, ENV);
  source = assembly.resourcesOfType('AWS::S3::Bucket').find((b) => b.logicalId.startsWith('WarehouseSourceBucket'))!.arn as string;
  model = await IamModel.fromAssembly(assembly);
}, 300_000);

const may = async (role: string, action: string, resource: string, context?: Record<string, string>) =>
  (await model.authorize({ principal: roleArn(role), action, resource, ...(context && { context }) })).allowed;

test('GIVEN grantWatch on the warehouse THEN dcf status and push --wait may read every pipeline of the namespace, and nothing is written or pulled', async () => {
  expect(await may('NamespaceWatcher', 'ssm:GetParameters', parameter)).toBe(true);
  expect(await may('NamespaceWatcher', 'codepipeline:ListPipelines', '*')).toBe(true);
  for (const p of [pipelineArn('image', 'python'), pipelineArn('image', 'node'), pipelineArn('feature', 'hello')]) {
    expect(await may('NamespaceWatcher', 'codepipeline:GetPipelineState', p)).toBe(true);
    expect(await may('NamespaceWatcher', 'codepipeline:ListActionExecutions', p)).toBe(true);
    expect(await may('NamespaceWatcher', 'codepipeline:StartPipelineExecution', p)).toBe(false);
  }
  expect(await may('NamespaceWatcher', 's3:GetObject', `${source}/acme/images/python.zip`)).toBe(true);
  expect(await may('NamespaceWatcher', 's3:ListBucket', source)).toBe(true);
  expect(await may('NamespaceWatcher', 's3:PutObject', `${source}/acme/images/python.zip`)).toBe(false);
  expect(await may('NamespaceWatcher', 'ecr:BatchGetImage', repositoryArn('acme/images/python'))).toBe(false);
});

test('GIVEN grantReadReleases on the warehouse THEN dcf list, tags, sbom and fetch may read every release of the namespace, and no staging build', async () => {
  expect(await may('NamespaceReader', 'ssm:GetParameters', parameter)).toBe(true);
  expect(await may('NamespaceReader', 'ecr:GetAuthorizationToken', '*')).toBe(true);
  expect(await may('NamespaceReader', 'ecr:DescribeRepositories', repositoryArn('*'))).toBe(true);
  for (const r of ['acme/images/python', 'acme/features/hello', 'acme/features']) {
    expect(await may('NamespaceReader', 'ecr:BatchGetImage', repositoryArn(r))).toBe(true);
    expect(await may('NamespaceReader', 'ecr:GetDownloadUrlForLayer', repositoryArn(r))).toBe(true);
    expect(await may('NamespaceReader', 'ecr:DescribeImages', repositoryArn(r))).toBe(true);
    expect(await may('NamespaceReader', 'ecr:PutImage', repositoryArn(r))).toBe(false);
  }
  expect(await may('NamespaceReader', 'ecr:BatchGetImage', repositoryArn('acme/builds/python'))).toBe(false);
  expect(await may('NamespaceReader', 'ecr:BatchGetImage', repositoryArn('other/images/python'))).toBe(false);
  expect(await may('NamespaceReader', 'codepipeline:GetPipelineState', pipelineArn('image', 'python'))).toBe(false);
});

test("GIVEN an image pipeline's grantPushConfiguration THEN its dcf push --wait may upload that image's configuration (the bucket policy lets it through) and follow that pipeline only", async () => {
  expect(await may('PythonPusher', 's3:PutObject', `${source}/acme/images/python.zip`)).toBe(true);
  expect(await may('PythonPusher', 's3:PutObject', `${source}/acme/images/node.zip`)).toBe(false);
  expect(await may('PythonPusher', 's3:DeleteObject', `${source}/acme/images/python.zip`)).toBe(false);
  expect(await may('PythonPusher', 'codepipeline:GetPipelineState', pipelineArn('image', 'python'))).toBe(true);
  expect(await may('PythonPusher', 'codepipeline:GetPipelineExecution', pipelineArn('image', 'python'))).toBe(true);
  expect(await may('PythonPusher', 'codepipeline:GetPipelineState', pipelineArn('image', 'node'))).toBe(false);
  expect(await may('PythonPusher', 'ssm:GetParameters', parameter)).toBe(true);
});

test("GIVEN an image pipeline's grantReadReleases THEN dcf tags, sbom and fetch may pull that image's releases only", async () => {
  expect(await may('PythonReader', 'ecr:GetAuthorizationToken', '*')).toBe(true);
  expect(await may('PythonReader', 'ecr:BatchGetImage', repositoryArn('acme/images/python'))).toBe(true);
  expect(await may('PythonReader', 'ecr:BatchGetImage', repositoryArn('acme/images/node'))).toBe(false);
  expect(await may('PythonReader', 'ecr:BatchGetImage', repositoryArn('acme/builds/python'))).toBe(false);
  expect(await may('PythonReader', 'ecr:DescribeRepositories', repositoryArn('*'))).toBe(false);
});

test("GIVEN a feature pipeline's grantWatch THEN dcf status may read that pipeline and whether the feature was uploaded, and no other pipeline", async () => {
  expect(await may('HelloWatcher', 'codepipeline:GetPipelineState', pipelineArn('feature', 'hello'))).toBe(true);
  expect(await may('HelloWatcher', 'codepipeline:GetPipelineState', pipelineArn('image', 'python'))).toBe(false);
  expect(await may('HelloWatcher', 's3:GetObject', `${source}/acme/features/hello.zip`)).toBe(true);
  expect(await may('HelloWatcher', 's3:GetObject', `${source}/acme/features/world.zip`)).toBe(false);
  expect(await may('HelloWatcher', 's3:PutObject', `${source}/acme/features/hello.zip`)).toBe(false);
});
