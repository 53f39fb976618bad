/**
 * Bad input never uploads: each case goes through `dcf push` with a deployed
 * factory mocked, and must end with its message, its exit code and no S3 write.
 */
import { execFileSync } from 'node:child_process';
// The modules themselves (not ES namespace copies), so that jest.spyOn can inject file system failures.
// eslint-disable-next-line @typescript-eslint/no-require-imports
import fs = require('node:fs');
// eslint-disable-next-line @typescript-eslint/no-require-imports
import fsPromises = require('node:fs/promises');
import { mkdirSync, readdirSync, symlinkSync, truncateSync, writeFileSync } from 'node:fs';
import { createServer, type Server } from 'node:net';
import { GetPipelineStateCommand } from '@aws-sdk/client-codepipeline';
import { HeadBucketCommand } from '@aws-sdk/client-s3';
import { GetParametersCommand } from '@aws-sdk/client-ssm';
import { ExitCode } from '../src';
import { codePipelineMock, resetMocks, s3Mock, s3Writes, ssmMock } from './support/factory-mocks';
import { IMAGE_FILES, Workspace, featureFiles } from './support/harness';
import { pipelineName } from '@devcontainer-factory/core';

let ws: Workspace;
const servers: Server[] = [];
beforeEach(() => {
  ws = new Workspace();
  resetMocks();
});
afterEach(async () => {
  await Promise.all(servers.splice(0).map((s) => new Promise((resolve) => s.close(resolve))));
  ws.cleanup();
});

const image = (json: unknown, extra: Record<string, string> = {}) => ({
  '.devcontainer/devcontainer.json': typeof json === 'string' ? json : JSON.stringify(json, null, 2),
  ...extra,
});
const withVersion = (version: unknown) => image({ image: 'debian:12', customizations: { 'devcontainer-factory': { version } } });
const feature = (id: string, metadata: Record<string, unknown>, extra: Record<string, string> = {}) => ({
  ...featureFiles(id),
  'devcontainer-feature.json': JSON.stringify({ id, version: '1.0.0', ...metadata }, null, 2),
  ...extra,
});

interface BadInput {
  /** Writes the input; returns the arguments after `push`. */
  readonly setup: (ws: Workspace) => string[] | Promise<string[]>;
  readonly code: number;
  readonly message: string;
}

/** `name` → the configuration folder `name` with these files. */
const folder =
  (name: string, files: Record<string, string>, ...flags: string[]) =>
  (w: Workspace) => (w.write(name, files), [name, ...flags]);

const BAD_INPUTS: Record<string, BadInput> = {
  'broken JSONC (a missing comma)': {
    setup: folder('python', image('{\n  "image": "debian:12"\n  "features": {}\n}')),
    code: ExitCode.ValidationFailed,
    message: 'python/.devcontainer/devcontainer.json:3:3: CommaExpected: fix the JSON syntax here (comments and trailing commas are allowed)',
  },
  'JSONC cut off in the middle': {
    setup: folder('python', image('{ "image": "debian:12", "features": {')),
    code: ExitCode.ValidationFailed,
    message: 'has 1 problem; nothing was uploaded:\n  python/.devcontainer/devcontainer.json:1:38: CloseBraceExpected',
  },
  'a top level that is not an object': {
    setup: folder('python', image('"debian:12"')),
    code: ExitCode.ValidationFailed,
    message: 'the top level must be a JSON object',
  },
  'no devcontainer.json': {
    setup: folder('python', { 'README.md': '# python' }),
    code: ExitCode.ValidationFailed,
    message: 'python/.devcontainer/devcontainer.json: missing: add .devcontainer/devcontainer.json or .devcontainer.json',
  },
  'a devcontainer.json in a sub-folder only': {
    setup: folder('python', { '.devcontainer/python/devcontainer.json': '{ "image": "debian:12" }' }),
    code: ExitCode.ValidationFailed,
    message: 'found .devcontainer/python/devcontainer.json: the factory builds the configuration at the root of the folder',
  },
  'a folder that does not exist': {
    setup: () => ['nope'],
    code: ExitCode.Usage,
    message: "error: the folder 'nope' does not exist: pass the folder that holds the configuration",
  },
  'a file instead of a folder': {
    setup: (w) => (writeFileSync(w.path('python.zip'), 'zip'), ['python.zip']),
    code: ExitCode.Usage,
    message: "error: 'python.zip' is a file: pass the folder that holds the configuration",
  },
  'a Dockerfile that does not exist': {
    setup: folder('python', image({ build: { dockerfile: 'Dockerfile' } })),
    code: ExitCode.ValidationFailed,
    message: 'the Dockerfile "Dockerfile" does not exist (looked for .devcontainer/Dockerfile): add it or fix the path',
  },
  'a Dockerfile outside the folder': {
    setup: folder('python', image({ build: { dockerfile: '../../Dockerfile' } })),
    code: ExitCode.ValidationFailed,
    message: '"../../Dockerfile" points outside the configuration folder: only this folder is uploaded',
  },
  'no image source': {
    setup: folder('python', image({ name: 'python' })),
    code: ExitCode.ValidationFailed,
    message: 'no image source: set "image"',
  },
  'an image reference with spaces': {
    setup: folder('python', image({ image: 'debian 12' })),
    code: ExitCode.ValidationFailed,
    message: '"debian 12" is not a valid image reference',
  },
  'a deprecated short feature id': {
    setup: folder('python', image({ image: 'debian:12', features: { node: {} } })),
    code: ExitCode.ValidationFailed,
    message: '"node" is a deprecated short feature id: use a full OCI reference such as "ghcr.io/devcontainers/features/node:1"',
  },
  'a local feature outside the folder': {
    setup: folder('python', image({ image: 'debian:12', features: { '../../../shared/feature': {} } })),
    code: ExitCode.ValidationFailed,
    message: 'the local feature "../../../shared/feature" points outside the configuration folder',
  },
  'an image version that is not semver': {
    setup: folder('python', withVersion('v2')),
    code: ExitCode.ValidationFailed,
    message: '"v2" is not a semantic version: use MAJOR.MINOR.PATCH such as "1.2.3"',
  },
  'an image version with build metadata': {
    setup: folder('python', withVersion('1.2.3+build.7')),
    code: ExitCode.ValidationFailed,
    message: 'build metadata (+…) cannot be part of a registry tag',
  },
  'a test-project without test.sh': {
    setup: folder('python', { '.devcontainer/devcontainer.json': IMAGE_FILES['.devcontainer/devcontainer.json'], 'test-project/notes.md': '' }),
    code: ExitCode.ValidationFailed,
    message: 'test-project/ has no test.sh',
  },
  'a symlink to a file outside the folder': {
    setup: (w) => {
      w.write('python', IMAGE_FILES);
      writeFileSync(w.path('secret.env'), 'TOKEN=1');
      symlinkSync('../secret.env', w.path('python/.env'));
      return ['python'];
    },
    code: ExitCode.ValidationFailed,
    message: "python/.env: is a symlink to '../secret.env', outside the folder: replace it with a copy of what it points to",
  },
  'an absolute symlink': {
    setup: (w) => (w.write('python', IMAGE_FILES), symlinkSync('/etc/passwd', w.path('python/passwd')), ['python']),
    code: ExitCode.ValidationFailed,
    message: "python/passwd: is a symlink to '/etc/passwd', outside the folder",
  },
  'a dangling symlink': {
    setup: (w) => (w.write('python', IMAGE_FILES), symlinkSync('gone.txt', w.path('python/link.txt')), ['python']),
    code: ExitCode.ValidationFailed,
    message: "python/link.txt: is a symlink to 'gone.txt', which does not exist",
  },
  'a symlink loop': {
    setup: (w) => (w.write('python', IMAGE_FILES), symlinkSync('..', w.path('python/test-project/up')), ['python']),
    code: ExitCode.ValidationFailed,
    message: 'python/test-project/up: is a symlink that loops back to a folder that contains it',
  },
  'a FIFO': {
    setup: (w) => (w.write('python', IMAGE_FILES), execFileSync('mkfifo', [w.path('python/pipe')]), ['python']),
    code: ExitCode.ValidationFailed,
    message: 'python/pipe: is a FIFO (named pipe): only regular files, folders and symlinks to files inside the folder can be packed',
  },
  'a socket': {
    setup: async (w) => {
      w.write('python', IMAGE_FILES);
      const server = createServer();
      servers.push(server);
      await new Promise<void>((resolve) => server.listen(w.path('python/agent.sock'), resolve));
      return ['python'];
    },
    code: ExitCode.ValidationFailed,
    message: 'python/agent.sock: is a socket',
  },
  'a file name with a backslash (a zip-slip path on Windows)': {
    setup: folder('python', { ...IMAGE_FILES, '..\\..\\evil.sh': 'rm -rf /' }),
    code: ExitCode.ValidationFailed,
    message: "python/..\\..\\evil.sh: the path contains a backslash: use '/' between folders",
  },
  'two names that are one file on macOS (café.md in NFC and in NFD)': {
    setup: folder('python', { ...IMAGE_FILES, 'caf\u00e9.md': 'nfc', 'cafe\u0301.md': 'nfd' }),
    code: ExitCode.ValidationFailed,
    message: 'python/cafe\u0301.md: clashes with caf\u00e9.md: the two are one name written in two Unicode forms (cafe\\u{301}.md and caf\\u{E9}.md)',
  },
  'names that differ only in case': {
    setup: folder('python', { ...IMAGE_FILES, 'README.md': '# a', 'readme.md': '# b' }),
    code: ExitCode.ValidationFailed,
    message:
      'python/README.md: clashes with readme.md: the names differ only in case, and case-insensitive file systems (macOS, and Windows by default) store them as one file',
  },
  'a path over 1024 bytes': {
    setup: folder('python', { ...IMAGE_FILES, [`${`${'d'.repeat(200)}/`.repeat(6)}x.txt`]: 'x' }),
    code: ExitCode.ValidationFailed,
    message: '(1205 bytes): the path is 1205 bytes long, over the limit of 1024 bytes (MAX_ARCHIVE_PATH_BYTES)',
  },
  'a Dockerfile whose ARGs double on every line': {
    setup: folder('python', {
      ...image({ build: { dockerfile: 'Dockerfile' } }),
      '.devcontainer/Dockerfile': ['ARG V0=x', ...Array.from({ length: 30 }, (_, i) => `ARG V${i + 1}=\${V${i}}\${V${i}}`), 'FROM debian:${V30}', ''].join(
        '\n',
      ),
    }),
    code: ExitCode.ValidationFailed,
    message:
      'python/.devcontainer/Dockerfile:14: ARG V13 expands to more than 4096 characters, the limit of a global ARG or FROM value (MAX_DOCKERFILE_VALUE_LENGTH)',
  },
  'content over the size limit': {
    setup: folder('python', { ...IMAGE_FILES, 'data.bin': 'x'.repeat(4096) }, '--max-size', '2KiB'),
    code: ExitCode.ValidationFailed,
    message:
      'python: the configuration holds 4.2 KiB, over the limit of 2.0 KiB: leave large files out (add them to .gitignore) or raise the limit (--max-size); largest: data.bin (4.0 KiB)',
  },
  'an invalid --id': {
    setup: folder('python', IMAGE_FILES, '--id', 'Python_3'),
    code: ExitCode.Usage,
    message:
      "error: image id 'Python_3' is invalid: use lowercase letters, digits and '-', starting with a letter or digit (^[a-z0-9][a-z0-9-]*$) (try 'python-3'); pass a valid --id",
  },
  'a folder name that is not an id': {
    setup: folder('Python_3', IMAGE_FILES),
    code: ExitCode.Usage,
    message: '(taken from the folder name): rename the folder or pass --id',
  },
  'an id that is too long': {
    setup: folder('python', IMAGE_FILES, '--id', 'a'.repeat(64)),
    code: ExitCode.Usage,
    message: `image id '${'a'.repeat(64)}' is 64 characters long; the limit is 63`,
  },
  'a feature whose id differs from its folder': {
    setup: folder('hello', feature('greeter', {})),
    code: ExitCode.ValidationFailed,
    message: `"id" is 'greeter' but the feature is catalogued and uploaded as 'hello': set "id": "hello", or upload it as 'greeter'`,
  },
  'a feature without install.sh': {
    setup: folder('hello', { 'devcontainer-feature.json': featureFiles('hello')['devcontainer-feature.json'] }),
    code: ExitCode.ValidationFailed,
    message: 'hello/install.sh: missing: a feature needs install.sh beside devcontainer-feature.json',
  },
  'a feature version that is not semver': {
    setup: folder('hello', feature('hello', { version: '1.0' })),
    code: ExitCode.ValidationFailed,
    message: `"version" '1.0' is not a semantic version: use MAJOR.MINOR.PATCH, e.g. "1.0.0" (try "1.0.0")`,
  },
  'a feature pre-release version': {
    setup: folder('hello', feature('hello', { version: '2.0.0-rc.1' })),
    code: ExitCode.ValidationFailed,
    message: `"version" '2.0.0-rc.1' is a pre-release`,
  },
  'a feature option with a default of the wrong type': {
    setup: folder('hello', feature('hello', { options: { enabled: { type: 'boolean', default: 'yes' } } })),
    code: ExitCode.ValidationFailed,
    message: 'option "enabled": "default" must be a boolean, as "type" says',
  },
  'a feature test scenario without its script': {
    setup: folder('hello', { ...featureFiles('hello'), 'test/scenarios.json': '{ "on-alpine": { "image": "alpine", "features": { "hello": {} } } }' }),
    code: ExitCode.ValidationFailed,
    message: "scenario 'on-alpine' has no script: add test/on-alpine.sh",
  },
  'a feature pushed as an image': {
    setup: folder('hello', featureFiles('hello'), '--kind', 'image'),
    code: ExitCode.ValidationFailed,
    message: 'this folder holds a feature (devcontainer-feature.json): push it with --kind feature',
  },
};

describe('dcf push refuses bad input and uploads nothing', () => {
  test('the table holds at least 25 cases', () => {
    expect(Object.keys(BAD_INPUTS).length).toBeGreaterThanOrEqual(25);
  });

  test.each(Object.entries(BAD_INPUTS))('%s', async (_name, bad) => {
    const argv = await bad.setup(ws);

    const { code, stdout, stderr } = await ws.run(['push', ...argv]);

    expect(stderr).toContain(bad.message);
    expect(code).toBe(bad.code);
    expect(stdout).toBe('');
    expect(s3Writes()).toBe(0);
    // Local problems stop before any AWS call at all.
    expect(ssmMock.calls()).toHaveLength(0);
  });
});

describe('dcf push stops before any write when the factory is not there', () => {
  test('a namespace without a factory says which deploy is missing', async () => {
    ws.write('python', IMAGE_FILES);

    const { code, stderr } = await ws.run(['push', 'python', '--namespace', 'team-b', '--region', 'eu-west-1']);

    expect(code).toBe(ExitCode.Aws);
    expect(stderr).toContain(
      "error: no factory is deployed for namespace 'team-b' in eu-west-1 (SSM parameter /team-b/factory/source-bucket-name, /team-b/factory/registry not found): " +
        'deploy it with "nx deploy factory -c namespace=team-b", or pass --namespace (or --region / --profile) for the factory you meant',
    );
    expect(s3Writes()).toBe(0);
  });

  test('a missing source bucket says to redeploy the warehouse', async () => {
    ws.write('python', IMAGE_FILES);
    s3Mock.on(HeadBucketCommand).rejects(Object.assign(new Error('UnknownError'), { name: 'NotFound', $metadata: { httpStatusCode: 404 } }));

    const { code, stderr } = await ws.run(['push', 'python']);

    expect(code).toBe(ExitCode.Aws);
    expect(stderr).toContain("error: the source bucket 'dcf-source-123' (SSM parameter /devcontainers/factory/source-bucket-name) does not exist");
    expect(stderr).toContain('redeploy it with "nx deploy factory -c namespace=devcontainers"');
    expect(s3Writes()).toBe(0);
  });

  test('access denied on the parameters says what was being read', async () => {
    ws.write('python', IMAGE_FILES);
    ssmMock.on(GetParametersCommand).rejects(
      Object.assign(new Error('User: arn:aws:iam::1:user/x is not authorized to perform: ssm:GetParameters'), {
        name: 'AccessDeniedException',
        $metadata: { httpStatusCode: 400 },
      }),
    );

    const { code, stderr } = await ws.run(['push', 'python']);

    expect(code).toBe(ExitCode.Aws);
    expect(stderr).toContain("error: AWS denied access while reading the factory's SSM parameters");
    expect(stderr).toContain('(run with --verbose for details)');
    expect(s3Writes()).toBe(0);

    // With --json the error object on stdout is the whole report: stderr stays empty.
    const json = await ws.run(['push', 'python', '--json']);
    expect(json.code).toBe(ExitCode.Aws);
    expect(JSON.parse(json.stdout).error.message).toContain("AWS denied access while reading the factory's SSM parameters");
    expect(json.stderr).toBe('');
  });

  test('--wait without a pipeline for the id says what to add to the catalog', async () => {
    ws.write('python', IMAGE_FILES);
    codePipelineMock.on(GetPipelineStateCommand).rejects(Object.assign(new Error('not found'), { name: 'PipelineNotFoundException' }));

    const { code, stderr } = await ws.run(['push', 'python', '--wait']);

    expect(code).toBe(ExitCode.Aws);
    expect(stderr).toContain(
      `error: no pipeline ${pipelineName('devcontainers', 'image', 'python')} for image 'python' in namespace 'devcontainers': add 'python' to the catalog and deploy it (nx deploy factory -c namespace=devcontainers -c images=…,python)`,
    );
    expect(s3Writes()).toBe(0);
  });
});

describe('dcf pack and validate turn file system failures into clear errors', () => {
  const PACK_AND_VALIDATE_CASES: Record<string, BadInput & { readonly command: 'pack' | 'validate' }> = {
    '-o into a folder that does not exist': {
      command: 'pack',
      setup: folder('python', IMAGE_FILES, '-o', 'missing/python.zip'),
      code: ExitCode.Usage,
      message: "error: the folder of 'missing/python.zip' does not exist: create it (mkdir -p missing) or pass another -o",
    },
    '-o onto an existing folder': {
      command: 'pack',
      setup: (w) => (w.write('python', IMAGE_FILES), mkdirSync(w.path('out')), ['python', '-o', 'out']),
      code: ExitCode.Usage,
      message: "error: 'out' is a folder: pass the path of the zip to write",
    },
    'a file name with byte 0xff (pack)': {
      command: 'pack',
      setup: (w) => (
        w.write('python', IMAGE_FILES),
        writeFileSync(Buffer.concat([Buffer.from(w.path('python/a')), Buffer.from([0xff])]), 'x'),
        ['python', '-o', 'python.zip']
      ),
      code: ExitCode.ValidationFailed,
      message: 'the file name is not valid UTF-8, so it cannot be read or stored in the zip: rename it',
    },
    'a file name with byte 0xff (validate)': {
      command: 'validate',
      setup: (w) => (w.write('python', IMAGE_FILES), writeFileSync(Buffer.concat([Buffer.from(w.path('python/a')), Buffer.from([0xff])]), 'x'), ['python']),
      code: ExitCode.ValidationFailed,
      message: 'the file name is not valid UTF-8',
    },
    'a Dockerfile whose ARGs double on every line (validate, as Prepare reads it)': {
      command: 'validate',
      setup: folder('python', {
        ...image({ build: { dockerfile: 'Dockerfile' } }),
        '.devcontainer/Dockerfile': ['ARG V0=x', ...Array.from({ length: 30 }, (_, i) => `ARG V${i + 1}=\${V${i}}\${V${i}}`), 'FROM debian:${V30}', ''].join(
          '\n',
        ),
      }),
      code: ExitCode.ValidationFailed,
      message:
        'python/.devcontainer/Dockerfile:14: ARG V13 expands to more than 4096 characters, the limit of a global ARG or FROM value (MAX_DOCKERFILE_VALUE_LENGTH)',
    },
    'a sparse file over 2 GiB': {
      command: 'validate',
      setup: (w) => (
        w.write('python', IMAGE_FILES),
        writeFileSync(w.path('python/huge.bin'), ''),
        truncateSync(w.path('python/huge.bin'), 2 * 1024 ** 3 + 1),
        ['python']
      ),
      code: ExitCode.ValidationFailed,
      message: 'over the limit of 50.0 MiB',
    },
    'a sparse file over 2 GiB with --max-size raised past it': {
      command: 'pack',
      setup: (w) => (
        w.write('python', IMAGE_FILES),
        writeFileSync(w.path('python/huge.bin'), ''),
        truncateSync(w.path('python/huge.bin'), 2 * 1024 ** 3 + 1),
        ['python', '--max-size', '3GiB', '-o', 'python.zip']
      ),
      code: ExitCode.Usage,
      message: "'3GiB' is over 1024.0 MiB, the most dcf can pack",
    },
  };

  test.each(Object.entries(PACK_AND_VALIDATE_CASES))('%s', async (_name, bad) => {
    const argv = await bad.setup(ws);

    const { code, stdout, stderr } = await ws.run([bad.command, ...argv]);

    expect(stdout + stderr).toContain(bad.message);
    expect(stderr).not.toContain('internal error');
    expect(code).toBe(bad.code);
    // Nothing partial: no zip and no temporary file beside it.
    expect(readdirSync(ws.root).filter((f) => f.endsWith('.zip') || f.endsWith('.tmp'))).toEqual([]);
  });

  test.each([
    ['pack', 'EACCES', 'cannot be read (permission denied): fix its permissions'],
    ['validate', 'EACCES', 'cannot be read (permission denied)'],
    ['pack', 'ENOENT', 'disappeared while it was being read'],
  ])('%s: a file that cannot be read (%s) is a problem of that file', async (command, errno, message) => {
    // Tests run as root, which reads a chmod 000 file: inject the failure instead.
    ws.write('python', { ...IMAGE_FILES, 'secret.txt': 'x' });
    const realReadFile = fsPromises.readFile;
    const spy = jest.spyOn(fsPromises, 'readFile').mockImplementation(((file: string, ...rest: unknown[]) => {
      if (String(file).endsWith('secret.txt'))
        return Promise.reject(Object.assign(new Error(`${errno}: open '${String(file)}'`), { code: errno, path: String(file) }));
      return (realReadFile as (...a: unknown[]) => Promise<unknown>)(file, ...rest);
    }) as typeof fsPromises.readFile);
    try {
      const { code, stdout, stderr } = await ws.run(command === 'pack' ? ['pack', 'python', '-o', 'python.zip'] : ['validate', 'python']);

      expect(stdout + stderr).toContain(`python/secret.txt: ${message}`);
      expect(code).toBe(ExitCode.ValidationFailed);
      expect(readdirSync(ws.root).filter((f) => f.endsWith('.zip') || f.endsWith('.tmp'))).toEqual([]);
    } finally {
      spy.mockRestore();
    }
  });

  test('a write that fails removes the temporary file and says why', async () => {
    ws.write('python', IMAGE_FILES);
    const spy = jest.spyOn(fs, 'renameSync').mockImplementation(() => {
      throw Object.assign(new Error('ENOSPC: no space left on device'), { code: 'ENOSPC' });
    });
    try {
      const { code, stderr } = await ws.run(['pack', 'python', '-o', 'python.zip']);

      expect(stderr).toContain("error: cannot write 'python.zip' (ENOSPC)");
      expect(code).toBe(ExitCode.Aws);
      expect(readdirSync(ws.root).filter((f) => f.endsWith('.zip') || f.endsWith('.tmp'))).toEqual([]);
    } finally {
      spy.mockRestore();
    }
  });
});
