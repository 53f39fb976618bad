/**
 * The `dcf` command line: builds the commands, runs one, and turns every
 * failure into a message and an exit code. `exec` never exits the process;
 * only the entry point (bin/dcf.ts) sets `process.exitCode`.
 */
import { Command, CommanderError, Option } from 'commander';
import { formatProblem } from '@devcontainer-factory/core';
import type { CliEnvironment } from './cli-environment';
import { fetchCommand } from './commands/fetch';
import { initCommand } from './commands/init';
import { listCommand } from './commands/list';
import { localCommand } from './commands/local';
import { packCommand } from './commands/pack';
import { pushCommand } from './commands/push';
import { sbomCommand } from './commands/sbom';
import { statusCommand } from './commands/status';
import { tagsCommand } from './commands/tags';
import { validateCommand } from './commands/validate';
import { ExitCode, classifyError, errorDetails } from './dcf-error';
import { sdkClients } from './private/aws-clients';
import { Output } from './private/output';
import { App } from './private/session';

// eslint-disable-next-line @typescript-eslint/no-require-imports
const VERSION: string = require('../package.json').version;

const EXAMPLES = `
Examples:
  $ dcf init image ./python                 write a new image configuration
  $ dcf validate ./python                   check it: every problem with file and line
  $ dcf pack ./python -o python.zip         the deterministic zip push would upload
  $ dcf push ./python --wait                upload it and follow its pipeline
  $ dcf status python                       the latest execution, stage by stage
  $ dcf list                                published images and features, tags, digests
  $ dcf tags python --json                  every tagged image of python, as JSON
  $ dcf sbom python -o python.cdx.json      the SBOM (CycloneDX JSON) of python:latest
  $ dcf fetch python:1.2.3                  the configuration zip python:1.2.3 was built from
  $ dcf local run examples/catalog.yaml     build, test and release a catalogue into a local registry, no AWS

AWS: the standard SDK configuration applies (AWS_PROFILE or --profile, AWS_REGION or
--region, AWS_ENDPOINT_URL_S3 …). The factory is found from the SSM parameters of the
namespace (--namespace, DCF_NAMESPACE, default "devcontainers") that its Warehouse writes;
pipelines on a bucket and repositories of your own: --source-bucket and --registry-host.

Exit codes: 0 ok, 1 validation failed, 2 usage error, 3 AWS or environment error,
4 pipeline failed, 5 timed out waiting, 70 internal error.
`;

function defaultEnvironment(): CliEnvironment {
  return {
    stdout: process.stdout,
    stderr: process.stderr,
    cwd: process.cwd(),
    env: process.env,
    awsClients: sdkClients,
    clock: { now: () => Date.now(), sleep: (ms) => new Promise((resolve) => setTimeout(resolve, ms)) },
    pollIntervalMs: 5000,
  };
}

/** The `dcf` program, its commands wired to `app`. */
export function buildProgram(app: App): Command {
  const { stdout, stderr } = app.env;
  const program = new Command('dcf')
    .description('Validate, pack and push devcontainer images and features to devcontainer-factory, and follow them through its pipelines.')
    .version(VERSION, '-V, --version', 'print the version of dcf')
    .addOption(new Option('-n, --namespace <namespace>', 'namespace of the factory (default: DCF_NAMESPACE, else "devcontainers")'))
    .option('--region <region>', "AWS region (default: the SDK's: AWS_REGION, then the profile's)")
    .option('--profile <profile>', 'AWS profile (default: the SDK\'s: AWS_PROFILE, then "default")')
    .option(
      '--source-bucket <name>',
      "the factory's source bucket, for pipelines on a bucket of your own (default: DCF_SOURCE_BUCKET, else SSM /<ns>/factory/source-bucket-name)",
    )
    .option('--registry-host <host>', "the factory's ECR registry host (default: DCF_REGISTRY_HOST, else SSM /<ns>/factory/registry)")
    .option('--json', 'print data as JSON on stdout')
    .option('--verbose', 'print stack traces of errors')
    .helpOption('-h, --help', 'show help')
    .helpCommand('help [command]', 'show help for a command')
    .addHelpText('after', EXAMPLES)
    .showSuggestionAfterError(true);
  for (const command of [
    initCommand,
    validateCommand,
    packCommand,
    pushCommand,
    statusCommand,
    listCommand,
    tagsCommand,
    sbomCommand,
    fetchCommand,
    localCommand,
  ]) {
    program.addCommand(command(app));
  }
  const configure = (command: Command) => {
    command
      .exitOverride()
      .configureOutput({
        writeOut: (s) => stdout.write(s),
        writeErr: (s) => stderr.write(s),
        outputError: (s, write) => write(s),
      })
      .showHelpAfterError(`(run "${commandPath(command)} --help" for usage)`);
    command.commands.forEach(configure);
  };
  configure(program);
  return program;
}

function commandPath(command: Command): string {
  const names: string[] = [];
  for (let c: Command | null = command; c; c = c.parent) names.unshift(c.name());
  return names.join(' ');
}

/**
 * Runs `dcf` with the arguments after the program name and returns its exit code.
 * @param environment what to use instead of the process's streams, folder, variables, AWS clients and clock
 */
export async function exec(argv: readonly string[], environment: Partial<CliEnvironment> = {}): Promise<number> {
  const env: CliEnvironment = { ...defaultEnvironment(), ...environment };
  const app = new App(env);
  const program = buildProgram(app);
  try {
    await program.parseAsync([...argv], { from: 'user' });
    return app.exitCode ?? ExitCode.Ok;
  } catch (e) {
    return report(e, env, app, argv);
  }
}

function report(e: unknown, env: CliEnvironment, app: App, argv: readonly string[]): number {
  if (e instanceof CommanderError) {
    // Commander has printed its message (or the help) already.
    if (e.code === 'commander.helpDisplayed' || e.code === 'commander.version') return ExitCode.Ok;
    return ExitCode.Usage;
  }
  const json = app.options?.json ?? argv.includes('--json');
  const verbose = app.options?.verbose ?? argv.includes('--verbose');
  const out = new Output(env.stdout, env.stderr, json, env.env);
  const { exitCode, message, problems } = classifyError(e);
  if (json) {
    out.data({ error: { message, exitCode, ...(problems ? { problems } : {}) } });
  } else {
    out.error(message);
    if (problems) for (const p of problems) env.stderr.write(`  ${formatProblem(p)}\n`);
  }
  if (verbose) {
    env.stderr.write(`${errorDetails(e)}\n`);
  } else if (!json && (exitCode === ExitCode.Internal || exitCode === ExitCode.Aws)) {
    // With --json the error object is the whole report; a hint for people would be noise on stderr.
    env.stderr.write('(run with --verbose for details)\n');
  }
  return exitCode;
}
