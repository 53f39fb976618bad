import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { ExitCode } from '../src';
import { Workspace } from './support/harness';

let ws: Workspace;
beforeEach(() => (ws = new Workspace()));
afterEach(() => ws.cleanup());

describe('dcf', () => {
  test('--help lists every command and shows examples and exit codes', async () => {
    const { code, stdout } = await ws.run(['--help']);

    expect(code).toBe(ExitCode.Ok);
    for (const command of ['init', 'validate', 'pack', 'push', 'status', 'list', 'tags']) expect(stdout).toMatch(new RegExp(`^  ${command} `, 'm'));
    expect(stdout).toContain('$ dcf push ./python --wait');
    expect(stdout).toContain('Exit codes: 0 ok, 1 validation failed, 2 usage error, 3 AWS or environment error');
  });

  test('each command has its own help with examples', async () => {
    const { code, stdout } = await ws.run(['push', '--help']);

    expect(code).toBe(ExitCode.Ok);
    expect(stdout).toContain('Usage: dcf push [options] <dir>');
    expect(stdout).toContain('--wait');
    expect(stdout).toContain('$ dcf push ./python --wait');
  });

  test('--version prints the package version', async () => {
    const { code, stdout } = await ws.run(['--version']);

    expect(code).toBe(ExitCode.Ok);
    expect(stdout.trim()).toBe(JSON.parse(readFileSync(join(__dirname, '../package.json'), 'utf8')).version);
  });

  test.each([
    [['frobnicate'], "error: unknown command 'frobnicate'"],
    [['pus', 'x'], '(Did you mean push?)'],
    [['validate'], "error: missing required argument 'dir'"],
    [['validate', '.', '--bogus'], "error: unknown option '--bogus'"],
    [['init', 'container', 'x'], "error: command-argument value 'container' is invalid for argument 'kind'. Allowed choices are image, feature, catalog."],
    [['push', '.', '--timeout', 'soon'], "'soon' is not a number of minutes"],
    [['pack', '.', '--max-size', 'huge'], "'huge' is not a size: use a number of bytes or a size such as 50MiB"],
  ])('a usage error (%j) exits 2 with a message and a pointer to --help', async (argv, message) => {
    const { code, stderr } = await ws.run(argv);

    expect(code).toBe(ExitCode.Usage);
    expect(stderr).toContain(message);
    expect(stderr).toContain('--help" for usage');
  });

  test('a bad namespace is a usage error that says how to fix it', async () => {
    const { code, stderr } = await ws.run(['list', '--namespace', 'Team_A']);

    expect(code).toBe(ExitCode.Usage);
    expect(stderr).toContain("error: namespace 'Team_A' is invalid: use lowercase letters, digits and '-'");
    expect(stderr).toContain('pass --namespace (or set DCF_NAMESPACE)');
    expect(stderr).not.toMatch(/\n\s+at /); // no stack trace without --verbose
  });

  test('--verbose adds the stack trace; --json turns the error into a JSON document', async () => {
    const verbose = await ws.run(['validate', 'missing', '--verbose']);
    expect(verbose.code).toBe(ExitCode.Usage);
    expect(verbose.stderr).toMatch(/DcfError: the folder 'missing' does not exist[\s\S]*\n\s+at /);

    const json = await ws.run(['validate', 'missing', '--json']);
    expect(json.code).toBe(ExitCode.Usage);
    expect(JSON.parse(json.stdout)).toEqual({
      error: {
        exitCode: 2,
        message: "the folder 'missing' does not exist: pass the folder that holds the configuration (dcf init image|feature <dir> writes one)",
      },
    });
  });

  test('global options are accepted after the command too', async () => {
    ws.write('hello', { 'devcontainer-feature.json': '{"id":"hello","version":"1.0.0","name":"Hello"}', 'install.sh': '#!/bin/sh\n' });

    const { code, stdout } = await ws.run(['validate', 'hello', '--json', '--namespace', 'team-a']);

    expect(code).toBe(ExitCode.Ok);
    expect(JSON.parse(stdout)).toMatchObject({ kind: 'feature', id: 'hello', valid: true });
  });
});
