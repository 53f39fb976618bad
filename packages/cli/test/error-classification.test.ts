/**
 * One function turns every error into what the user sees: `classifyError` maps each
 * family of errors to its message and exit code (the table in the README), and the
 * errors reach it as they were thrown, not wrapped again on the way.
 */
import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import {
  CatalogError,
  FactoryError,
  InvalidConfigurationError,
  InvalidNameError,
  RegistryHttpError,
  UnsupportedPlatformError,
} from '@devcontainer-factory/core';
import { DcfError, ExitCode, classifyError, errorDetails } from '../src';
import { EngineCommandError, hostPlatform } from '../src/local/container-engine';
import { LocalCatalogError } from '../src/local/local-catalog';
import { LocalRegistryError } from '../src/local/local-registry';
import { RetentionFlagError } from '../src/local/local-retention';
import { LocalStageError } from '../src/local/local-stages';
import { dcfInRepo } from './support/repo-run';

describe('classifyError', () => {
  test.each([
    ['a DcfError keeps its own exit code', new DcfError('no factory', ExitCode.Aws), 'no factory', ExitCode.Aws],
    ['a bad name is a usage error', new InvalidNameError("image id 'A' is not valid"), "image id 'A' is not valid", ExitCode.Usage],
    [
      'a bad catalogue is a usage error',
      new CatalogError("image 'app' dependsOn unknown image 'x'"),
      "image 'app' dependsOn unknown image 'x'",
      ExitCode.Usage,
    ],
    ['a catalogue file dcf local cannot use is a usage error', new LocalCatalogError("'x' does not exist"), "'x' does not exist", ExitCode.Usage],
    [
      'a bad retention flag is a usage error',
      new RetentionFlagError('--staging-days must be a whole number'),
      '--staging-days must be a whole number',
      ExitCode.Usage,
    ],
    [
      'a failed image tool is an environment error',
      new EngineCommandError("'buildah' failed", 1, ''),
      "the image tools failed: 'buildah' failed",
      ExitCode.Aws,
    ],
    ['a local registry that does not come up is an environment error', new LocalRegistryError('no registry answers'), 'no registry answers', ExitCode.Aws],
    [
      'a host platform the factory does not build is an environment error',
      new UnsupportedPlatformError('ia32 is not supported'),
      'ia32 is not supported',
      ExitCode.Aws,
    ],
    ['anything else is an internal error', new TypeError('x is undefined'), 'internal error, please report it: x is undefined', ExitCode.Internal],
    [
      'a registry error that escaped the stages is an internal error',
      new RegistryHttpError('GET failed', 500),
      'internal error, please report it: GET failed',
      ExitCode.Internal,
    ],
    ['a thrown string is an internal error', 'oops', 'internal error, please report it: oops', ExitCode.Internal],
  ])('%s', (_name, error, message, exitCode) => {
    expect(classifyError(error)).toEqual({ message, exitCode });
  });

  test('a configuration with problems fails validation with its problems', () => {
    const problems = [{ file: 'devcontainer.json', line: 2, message: 'is not JSON' }];

    expect(classifyError(new InvalidConfigurationError(problems))).toEqual({
      message: 'the configuration has 1 problem:',
      exitCode: ExitCode.ValidationFailed,
      problems,
    });
  });

  test('an error of no known family is classified by the first known error of its cause chain', () => {
    // GIVEN a plain error wrapping a stage error wrapping a catalogue error
    const catalog = new CatalogError('bad catalogue');
    const wrapped = new Error('something failed', { cause: new LocalStageError('stage failed', { cause: catalog }) });

    // WHEN / THEN
    expect(classifyError(wrapped)).toEqual({ message: 'bad catalogue', exitCode: ExitCode.Usage });
  });

  test('a cause chain that loops ends as an internal error', () => {
    const a = new Error('a');
    const b = new Error('b', { cause: a });
    Object.assign(a, { cause: b });

    expect(classifyError(a).exitCode).toBe(ExitCode.Internal);
  });

  test('the details for --verbose hold the stack of the error and of each cause', () => {
    const error = new DcfError('retention failed: GET failed', ExitCode.Aws, {
      cause: new RegistryHttpError('GET failed', 500, undefined, { cause: new Error('socket hang up') }),
    });

    const details = errorDetails(error).split('\n');

    expect(details[0]).toBe('DcfError: retention failed: GET failed');
    expect(details).toContain('caused by: RegistryHttpError: GET failed');
    expect(details).toContain('caused by: Error: socket hang up');
  });
});

test("dcf's own errors are FactoryErrors named after their class", () => {
  const errors = [
    new DcfError('x', ExitCode.Usage, { cause: 'why' }),
    new EngineCommandError('x', null, '', { cause: 'why' }),
    new LocalCatalogError('x', { cause: 'why' }),
    new LocalRegistryError('x', { cause: 'why' }),
    new LocalStageError('x', { cause: 'why' }),
    new RetentionFlagError('x', { cause: 'why' }),
  ];
  for (const error of errors) {
    expect(error).toBeInstanceOf(FactoryError);
    expect(error.name).toBe(error.constructor.name);
    expect(error.cause).toBe('why');
  }
  expect(errors.map((e) => e.name)).toEqual([
    'DcfError',
    'EngineCommandError',
    'LocalCatalogError',
    'LocalRegistryError',
    'LocalStageError',
    'RetentionFlagError',
  ]);
});

test('a host that is neither amd64 nor arm64 is refused with an UnsupportedPlatformError', () => {
  expect(() => hostPlatform('ia32')).toThrow(UnsupportedPlatformError);
  expect(() => hostPlatform('ia32')).toThrow('dcf local builds for the host platform, and ia32 is not one the factory supports (amd64, arm64)');
});

describe('dcf local run on a bad catalogue', () => {
  let dir: string;
  const MESSAGE = "image 'app' dependsOn unknown image 'missing', which is not an image of";
  beforeEach(async () => {
    // GIVEN a catalogue whose image depends on an image it does not have (a CatalogError of the shared checks)
    dir = await mkdtemp(join(tmpdir(), 'dcf-bad-catalog-'));
    await mkdir(join(dir, 'images', 'app'), { recursive: true });
    await writeFile(join(dir, 'catalog.yaml'), 'images:\n  - id: app\n    dependsOn: [missing]\n');
  });
  afterEach(async () => {
    await rm(dir, { recursive: true, force: true });
  });

  test('reports the CatalogError once, as a usage error (exit code 2)', async () => {
    const run = await dcfInRepo('local', 'run', dir);

    expect(run.code).toBe(ExitCode.Usage);
    expect(run.stderr.split(MESSAGE)).toHaveLength(2);
    expect(run.stderr).toMatch(/^error: image 'app' dependsOn unknown image 'missing'/);
    expect(run.stderr).not.toContain('internal error');
    expect(run.stdout).toBe('');
  });

  test('with --json gives the message and the exit code on stdout', async () => {
    const run = await dcfInRepo('local', 'run', dir, '--json');

    expect(run.code).toBe(ExitCode.Usage);
    const { error } = JSON.parse(run.stdout) as { error: { message: string; exitCode: number } };
    expect(error.exitCode).toBe(ExitCode.Usage);
    expect(error.message).toContain(MESSAGE);
  });

  test('with --verbose prints the stack of the CatalogError itself, not of a wrapper', async () => {
    const run = await dcfInRepo('local', 'run', dir, '--verbose');

    expect(run.code).toBe(ExitCode.Usage);
    expect(run.stderr).toContain(`CatalogError: ${MESSAGE}`);
    expect(run.stderr).toMatch(/\n\s+at /);
    expect(run.stderr).not.toContain('LocalCatalogError');
    expect(run.stderr).not.toContain('DcfError');
    expect(run.stderr).not.toContain('caused by:');
  });
});

test('dcf local run on a catalogue file that does not exist is a usage error naming the path', async () => {
  const missing = join(tmpdir(), 'dcf-no-such-catalog', 'catalog.yaml');

  const run = await dcfInRepo('local', 'run', missing);

  expect(run.code).toBe(ExitCode.Usage);
  expect(run.stderr).toContain(`error: '${missing}' does not exist: pass a catalogue file`);
});
