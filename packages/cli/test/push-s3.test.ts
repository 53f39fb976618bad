/**
 * `dcf push` against a real S3-protocol server (s3rver on a free localhost
 * port), addressed the standard SDK way (AWS_ENDPOINT_URL_S3): the bytes, the
 * key layout and the progress bar, then the object pulled back.
 */
import { createHash, randomBytes } from 'node:crypto';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { CodePipelineClient, GetPipelineStateCommand } from '@aws-sdk/client-codepipeline';
import { GetObjectCommand, HeadObjectCommand, ListObjectsV2Command, S3Client } from '@aws-sdk/client-s3';
import { GetParametersCommand, SSMClient } from '@aws-sdk/client-ssm';
import { mockClient } from 'aws-sdk-client-mock';
import S3rver from 's3rver';
import { readZip, pipelineName } from '@devcontainer-factory/core';
import { ExitCode } from '../src';
import { IMAGE_FILES, Workspace, featureFiles } from './support/harness';

const BUCKET = 'factory-source';
/** A team's own source bucket, which no Warehouse's SSM parameter names. */
const TEAM_BUCKET = 'team-sources';
const REGISTRY = '123456789012.dkr.ecr.eu-west-1.amazonaws.com';
const ssmMock = mockClient(SSMClient);
const codePipelineMock = mockClient(CodePipelineClient);

let server: S3rver;
let storage: string;
let s3: S3Client;
const saved = { ...process.env };

beforeAll(async () => {
  storage = mkdtempSync(join(tmpdir(), 'dcf-s3rver-'));
  server = new S3rver({
    address: 'localhost',
    port: 0,
    silent: true,
    directory: storage,
    configureBuckets: [
      { name: BUCKET, configs: [] },
      { name: TEAM_BUCKET, configs: [] },
    ],
  });
  const { port } = await server.run();
  Object.assign(process.env, {
    AWS_ENDPOINT_URL_S3: `http://localhost:${port}`,
    AWS_ACCESS_KEY_ID: 'S3RVER',
    AWS_SECRET_ACCESS_KEY: 'S3RVER',
    AWS_REGION: 'us-east-1',
  });
  s3 = new S3Client({ forcePathStyle: true });
});

afterAll(async () => {
  s3.destroy();
  await server.close();
  rmSync(storage, { recursive: true, force: true });
  process.env = saved;
});

let ws: Workspace;
beforeEach(() => {
  ws = new Workspace();
  ssmMock.reset();
  codePipelineMock.reset();
  ssmMock.on(GetParametersCommand).callsFake((input: { Names: string[] }) => ({
    Parameters: input.Names.map((Name) => ({ Name, Value: Name.endsWith('source-bucket-name') ? BUCKET : REGISTRY })),
  }));
  codePipelineMock.on(GetPipelineStateCommand).resolves({ stageStates: [{ stageName: 'Source' }] });
});
afterEach(() => ws.cleanup());

async function pull(key: string): Promise<{ bytes: Buffer; metadata: Record<string, string> | undefined }> {
  const object = await s3.send(new GetObjectCommand({ Bucket: BUCKET, Key: key }));
  return { bytes: Buffer.from(await object.Body!.transformToByteArray()), metadata: object.Metadata };
}

test('uploads the packed zip to <ns>/images/<id>.zip, and the bytes pulled back are the bytes of dcf pack', async () => {
  ws.write('python', IMAGE_FILES);

  const pushed = await ws.run(['push', 'python']);
  const packed = await ws.run(['pack', 'python', '-o', 'python.zip']);

  expect([pushed.code, packed.code]).toEqual([ExitCode.Ok, ExitCode.Ok]);
  expect(pushed.stdout).toContain(`✔ uploaded image python (2 files,`);
  expect(pushed.stdout).toContain(`to s3://${BUCKET}/devcontainers/images/python.zip`);
  expect(pushed.stdout).toContain(`Next: pipeline ${pipelineName('devcontainers', 'image', 'python')} starts within a few seconds.`);
  expect(pushed.stdout).toContain(`docker pull ${REGISTRY}/devcontainers/images/python:1.2.3`);
  const { bytes, metadata } = await pull('devcontainers/images/python.zip');
  const local = readFileSync(ws.path('python.zip'));
  expect(bytes.equals(local)).toBe(true);
  expect(metadata?.['content-sha256']).toBe(createHash('sha256').update(local).digest('hex'));
  expect([...readZip(bytes).files.keys()]).toEqual(['.devcontainer/devcontainer.json', 'test-project/test.sh']);
  expect([...readZip(bytes).executables]).toEqual(['test-project/test.sh']);
});

test('a feature goes to <ns>/features/<id>.zip of the namespace given, and --json describes the upload', async () => {
  ws.write('hello', featureFiles('hello', '2.1.0'));

  const { code, stdout } = await ws.run(['push', 'hello', '--namespace', 'team-a', '--json']);

  expect(code).toBe(ExitCode.Ok);
  const result = JSON.parse(stdout);
  expect(result).toMatchObject({
    kind: 'feature',
    id: 'hello',
    namespace: 'team-a',
    bucket: BUCKET,
    key: 'team-a/features/hello.zip',
    pipeline: pipelineName('team-a', 'feature', 'hello'),
    pull: `${REGISTRY}/team-a/features/hello:2`,
  });
  const listed = await s3.send(new ListObjectsV2Command({ Bucket: BUCKET, Prefix: 'team-a/' }));
  expect(listed.Contents?.map((o) => o.Key)).toEqual(['team-a/features/hello.zip']);
  expect((await s3.send(new HeadObjectCommand({ Bucket: BUCKET, Key: result.key }))).ContentLength).toBe(result.bytes);
});

test('the same content pushed from two copies gives the same object (same ETag)', async () => {
  ws.write('a/python', IMAGE_FILES);
  ws.write('b/python', Object.fromEntries(Object.entries(IMAGE_FILES).reverse()));

  const first = JSON.parse((await ws.run(['push', 'a/python', '--json'])).stdout);
  const second = JSON.parse((await ws.run(['push', 'b/python', '--json'])).stdout);

  expect(second.etag).toBe(first.etag);
  expect(second.sha256).toBe(first.sha256);
});

test('draws a progress bar on a terminal, through a multipart upload of a large configuration, and none elsewhere', async () => {
  // 6 MiB of incompressible data: over the 5 MiB part size, so the upload has two parts.
  ws.write('big', { ...IMAGE_FILES, 'data.bin': randomBytes(6 * 1024 * 1024) });

  const tty = await ws.run(['push', 'big', '--max-size', '20MiB'], { tty: true });
  const pipe = await ws.run(['push', 'big', '--max-size', '20MiB'], { tty: false });

  expect([tty.code, pipe.code]).toEqual([ExitCode.Ok, ExitCode.Ok]);
  const frames = tty.stderr.split('\r').filter((f) => f.includes('Uploading devcontainers/images/big.zip ['));
  const percents = frames.map((f) => Number(/\] +(\d+)%/.exec(f)?.[1]));
  expect(percents.length).toBeGreaterThanOrEqual(2);
  expect(percents.some((p) => p > 0 && p < 100)).toBe(true);
  expect(percents[percents.length - 1]).toBe(100);
  expect(percents).toEqual([...percents].sort((a, b) => a - b));
  expect(pipe.stderr).not.toContain('Uploading');
  const { bytes } = await pull('devcontainers/images/big.zip');
  expect(readZip(bytes, { maxSize: 20 * 1024 * 1024 }).files.get('data.bin')?.length).toBe(6 * 1024 * 1024);
  // Two 6 MiB zips built and uploaded in parts: well inside a minute, however busy the machine (not a timed test).
}, 60_000);

describe('pipelines on a bucket and repositories of their own (no Warehouse, so no SSM parameters)', () => {
  const TEAM_REGISTRY = '210987654321.dkr.ecr.us-east-1.amazonaws.com';

  test('GIVEN --source-bucket and --registry-host THEN push uploads there and reads no SSM parameter', async () => {
    ws.write('python', IMAGE_FILES);

    const pushed = await ws.run(['push', 'python', '--source-bucket', TEAM_BUCKET, '--registry-host', TEAM_REGISTRY]);

    expect(pushed.code).toBe(ExitCode.Ok);
    expect(pushed.stdout).toContain(`to s3://${TEAM_BUCKET}/devcontainers/images/python.zip`);
    expect(pushed.stdout).toContain(`docker pull ${TEAM_REGISTRY}/devcontainers/images/python:1.2.3`);
    expect(ssmMock.commandCalls(GetParametersCommand)).toHaveLength(0);
    expect((await s3.send(new HeadObjectCommand({ Bucket: TEAM_BUCKET, Key: 'devcontainers/images/python.zip' }))).ContentLength).toBeGreaterThan(0);
  });

  test('GIVEN DCF_SOURCE_BUCKET alone THEN the bucket is that one and only the registry is read from SSM', async () => {
    ws.write('python', IMAGE_FILES);
    process.env.DCF_SOURCE_BUCKET = TEAM_BUCKET;
    try {
      const pushed = await ws.run(['push', 'python']);
      expect(pushed.code).toBe(ExitCode.Ok);
      expect(pushed.stdout).toContain(`to s3://${TEAM_BUCKET}/devcontainers/images/python.zip`);
      expect(ssmMock.commandCalls(GetParametersCommand).map((c) => c.args[0].input.Names)).toEqual([['/devcontainers/factory/registry']]);
    } finally {
      delete process.env.DCF_SOURCE_BUCKET;
    }
  });

  test.each([
    [['--source-bucket', 'Team_Sources'], "--source-bucket 'Team_Sources' is not an S3 bucket name"],
    [['--registry-host', 'https://x'], "--registry-host 'https://x' is not a registry host"],
  ])('GIVEN %j THEN push refuses it as a usage error and uploads nothing', async (flags, message) => {
    ws.write('python', IMAGE_FILES);
    const objects = async () => Promise.all([BUCKET, TEAM_BUCKET].map(async (Bucket) => (await s3.send(new ListObjectsV2Command({ Bucket }))).Contents ?? []));
    const before = await objects();
    const pushed = await ws.run(['push', 'python', ...flags]);
    expect(pushed.code).toBe(ExitCode.Usage);
    expect(pushed.stderr).toContain(message);
    expect(await objects()).toEqual(before);
  });

  test('GIVEN a --source-bucket that does not exist THEN push says which flag named it', async () => {
    ws.write('python', IMAGE_FILES);
    const pushed = await ws.run(['push', 'python', '--source-bucket', 'no-such-team-bucket', '--registry-host', TEAM_REGISTRY]);
    expect(pushed.code).toBe(ExitCode.Aws);
    expect(pushed.stderr).toContain("the source bucket 'no-such-team-bucket' (--source-bucket, or DCF_SOURCE_BUCKET) does not exist");
  });
});
