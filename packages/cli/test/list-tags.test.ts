/** `dcf list` and `dcf tags`: what ECR holds for the namespace. */
import { DescribeImagesCommand, DescribeRepositoriesCommand, ECRClient } from '@aws-sdk/client-ecr';
import { mockClient } from 'aws-sdk-client-mock';
import { ExitCode } from '../src';
import { REGISTRY, resetMocks } from './support/factory-mocks';
import { Workspace } from './support/harness';

const ecrMock = mockClient(ECRClient);
const digest = (c: string) => `sha256:${c.repeat(64)}`;
const build = 'a1b2c3d4e5f60718';

let ws: Workspace;
beforeEach(() => {
  ws = new Workspace();
  resetMocks();
  ecrMock.reset();
  const repo = (name: string) => ({ repositoryName: name, repositoryUri: `${REGISTRY}/${name}` });
  ecrMock
    .on(DescribeRepositoriesCommand)
    .resolvesOnce({ repositories: [repo('devcontainers/images/python'), repo('devcontainers/features'), repo('team-a/images/go')], nextToken: 'next' })
    .resolves({ repositories: [repo('devcontainers/features/hello'), repo('devcontainers/images/node')] });
  // The general answer first: aws-sdk-client-mock lets the answers for specific inputs, defined after it, win.
  ecrMock.on(DescribeImagesCommand).rejects(Object.assign(new Error('none'), { name: 'RepositoryNotFoundException' }));
  ecrMock.on(DescribeImagesCommand, { repositoryName: 'devcontainers/images/python' }).resolves({
    imageDetails: [
      { imageDigest: digest('1'), imageTags: [`${build}-amd64`], imagePushedAt: new Date('2025-01-02T10:00:00Z') },
      { imageDigest: digest('2'), imageTags: ['1.2', 'latest', build, '1', '1.2.3', '2025-01-02'], imagePushedAt: new Date('2025-01-02T10:05:00Z') },
      { imageDigest: digest('3'), imageTags: ['1.2.2', '0f0e0d0c0b0a0908'], imagePushedAt: new Date('2024-12-01T09:00:00Z') },
    ],
  });
  ecrMock.on(DescribeImagesCommand, { repositoryName: 'devcontainers/images/node' }).resolves({ imageDetails: [] });
  ecrMock.on(DescribeImagesCommand, { repositoryName: 'devcontainers/features/hello' }).resolves({
    imageDetails: [{ imageDigest: digest('4'), imageTags: ['0', '0.3', '0.3.1', 'latest'], imagePushedAt: new Date('2025-01-03T08:00:00Z') }],
  });
});
afterEach(() => ws.cleanup());

describe('listings that never end', () => {
  test('a page token that repeats stops dcf list with exit 3 and says why', async () => {
    ecrMock.on(DescribeRepositoriesCommand).resolves({ repositories: [], nextToken: 'same' });
    const { code, stderr } = await ws.run(['list']);
    expect(code).toBe(ExitCode.Aws);
    expect(stderr).toContain('listing ECR repositories: AWS sent the same page token twice');
    expect(ecrMock.commandCalls(DescribeRepositoriesCommand)).toHaveLength(2);
  });

  test('a listing past 1000 pages stops with exit 3 after reading 1000 pages', async () => {
    let page = 0;
    ecrMock.on(DescribeRepositoriesCommand).callsFake(async () => ({ repositories: [], nextToken: `t${++page}` }));
    const { code, stderr } = await ws.run(['list']);
    expect(code).toBe(ExitCode.Aws);
    expect(stderr).toContain('listing ECR repositories runs past 1000 pages');
    expect(ecrMock.commandCalls(DescribeRepositoriesCommand)).toHaveLength(1000);
  });

  test('the images of a repository are bounded the same way (dcf tags)', async () => {
    ecrMock.on(DescribeImagesCommand, { repositoryName: 'devcontainers/images/python' }).resolves({ imageDetails: [], nextToken: 'again' });
    const { code, stderr } = await ws.run(['tags', 'python']);
    expect(code).toBe(ExitCode.Aws);
    expect(stderr).toContain('listing the images of devcontainers/images/python: AWS sent the same page token twice');
  });
});

describe('dcf list', () => {
  test('lists the images and features of the namespace with version, release tags and digest', async () => {
    const { code, stdout } = await ws.run(['list']);

    expect(code).toBe(ExitCode.Ok);
    expect(stdout.split('\n')).toEqual([
      'KIND     ID      VERSION  DIGEST               PUSHED            TAGS',
      'feature  hello   0.3.1    sha256:444444444444  2025-01-03 08:00  latest 0.3.1 0.3 0',
      'image    node    -        (nothing released)   -',
      'image    python  1.2.3    sha256:222222222222  2025-01-02 10:05  latest 1.2.3 1.2 1 2025-01-02',
      '',
    ]);
  });

  test('--json gives full digests and what to pull or reference', async () => {
    const { code, stdout } = await ws.run(['list', '--kind', 'feature', '--json']);

    expect(code).toBe(ExitCode.Ok);
    expect(JSON.parse(stdout)).toEqual([
      {
        kind: 'feature',
        id: 'hello',
        repository: 'devcontainers/features/hello',
        version: '0.3.1',
        digest: digest('4'),
        tags: ['latest', '0.3.1', '0.3', '0'],
        pushedAt: '2025-01-03T08:00:00.000Z',
        reference: `${REGISTRY}/devcontainers/features/hello:0`,
      },
    ]);
  });

  test('a namespace without a factory (--namespace, or DCF_NAMESPACE) is an error, not an empty list', async () => {
    const flag = await ws.run(['list', '--namespace', 'nobody', '--region', 'eu-west-1']);
    const variable = await ws.run(['list'], { env: { ...process.env, DCF_NAMESPACE: 'team-z' } });

    expect([flag.code, variable.code]).toEqual([ExitCode.Aws, ExitCode.Aws]);
    expect(flag.stderr).toContain("error: no factory is deployed for namespace 'nobody' in eu-west-1");
    expect(variable.stderr).toContain("error: no factory is deployed for namespace 'team-z' in eu-west-1");
  });
});

describe('dcf tags', () => {
  test('lists every tagged image of an id, newest first, with all its tags', async () => {
    const { code, stdout } = await ws.run(['tags', 'python']);

    expect(code).toBe(ExitCode.Ok);
    expect(stdout.split('\n')).toEqual([
      `image python: ${REGISTRY}/devcontainers/images/python`,
      `  DIGEST${' '.repeat(65)}  PUSHED               TAGS`,
      `  ${digest('2')}  2025-01-02 10:05:00  latest 1.2.3 1.2 1 2025-01-02 ${build}`,
      `  ${digest('1')}  2025-01-02 10:00:00  ${build}-amd64`,
      `  ${digest('3')}  2024-12-01 09:00:00  1.2.2 0f0e0d0c0b0a0908`,
      '',
    ]);
  });

  test('finds a feature by id, as JSON', async () => {
    const { code, stdout } = await ws.run(['tags', 'hello', '--json']);

    expect(code).toBe(ExitCode.Ok);
    expect(JSON.parse(stdout)).toMatchObject({
      kind: 'feature',
      id: 'hello',
      repository: 'devcontainers/features/hello',
      images: [{ digest: digest('4'), tags: ['latest', '0.3.1', '0.3', '0'] }],
    });
  });

  test('an unknown id or a bad id is an error that says what was looked for', async () => {
    const unknown = await ws.run(['tags', 'ruby']);
    expect(unknown.code).toBe(ExitCode.Aws);
    expect(unknown.stderr).toContain(
      "error: no image or feature 'ruby' in namespace 'devcontainers' (looked for devcontainers/images/ruby, devcontainers/features/ruby)",
    );

    const bad = await ws.run(['tags', 'Ruby']);
    expect(bad.code).toBe(ExitCode.Usage);
    expect(bad.stderr).toContain("error: id 'Ruby' is invalid");
  });
});
