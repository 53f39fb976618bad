/**
 * Running the devcontainer CLI (`@devcontainers/cli`), which packages, publishes
 * and tests features. The factory pins its version and the integrity of its npm
 * tarball; CodeBuild installs that tarball only after checking it, `dcf local` and the
 * tests run the one in `node_modules` (the same version, from the lockfile).
 */
import { spawn } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { FactoryError } from '../factory-error';

/** The `@devcontainers/cli` version the factory is tested with and installs in CodeBuild. */
export const DEVCONTAINER_CLI_VERSION = '0.89.0';

/** The devcontainer CLI's npm package. */
export const DEVCONTAINER_CLI_PACKAGE = '@devcontainers/cli';

/**
 * The npm `dist.integrity` of the {@link DEVCONTAINER_CLI_PACKAGE} tarball at {@link DEVCONTAINER_CLI_VERSION}
 * (`npm view @devcontainers/cli@0.89.0 dist.integrity`; the lockfile's entry, which a test compares).
 * The package has no dependencies, so this one tarball is all CodeBuild installs.
 */
export const DEVCONTAINER_CLI_INTEGRITY = 'sha512-LzaoOGKQ/Zql6PsiZ4hVIYVZagzWkD65aG/1ou5/Kly5Y1PtjLg1yn7qu+LZCzVoAl6DZZ/pbz8qOO4RLNlqMg==';

/** How to start the devcontainer CLI. */
export interface DevcontainerCli {
  /** The executable, e.g. `node_modules/.bin/devcontainer` or `devcontainer`. */
  readonly command: string;
  /**
   * Arguments before the subcommand, e.g. `['-y', '@devcontainers/cli@0.89.0']` with `npx`.
   * @default - none
   */
  readonly args?: readonly string[];
  /**
   * Extra environment, e.g. `DEVCONTAINERS_OCI_AUTH` (`<registry>|<user>|<token>`) for a registry that needs a login.
   * @default - none
   */
  readonly env?: Readonly<Record<string, string>>;
}

/** Thrown when a command this project runs (a container engine, the devcontainer CLI) fails: its exit code (null when a signal ended it) and the end of what it printed. */
export class CommandFailedError extends FactoryError {
  readonly exitCode: number | null;
  readonly output: string;
  constructor(message: string, exitCode: number | null, output: string, options?: { cause?: unknown }) {
    super(message, options);
    this.exitCode = exitCode;
    this.output = output;
  }
}

/** Thrown when the devcontainer CLI fails; `output` holds the end of what it printed. */
export class DevcontainerCliError extends CommandFailedError {}

/**
 * Runs `devcontainer <args>`; resolves with its stdout, throws {@link DevcontainerCliError} on a non-zero exit.
 * Each run gets a temp folder of its own (`TMPDIR`), removed afterwards: the CLI names its
 * scratch folders by the millisecond (`templates-src-output-<ms>`), so two runs started
 * in the same millisecond would otherwise share, and break, one folder.
 */
export async function runDevcontainer(cli: DevcontainerCli, args: readonly string[], options: { cwd?: string } = {}): Promise<string> {
  const scratch = mkdtempSync(join(tmpdir(), 'dcf-devcontainer-cli-'));
  try {
    return await runIn(scratch, cli, args, options);
  } finally {
    rmSync(scratch, { recursive: true, force: true });
  }
}

function runIn(scratch: string, cli: DevcontainerCli, args: readonly string[], options: { cwd?: string }): Promise<string> {
  const argv = [...(cli.args ?? []), ...args];
  const shown = `${cli.command} ${argv.join(' ')}`;
  return new Promise((resolve, reject) => {
    const env = { ...process.env, ...cli.env, TMPDIR: scratch };
    const child = spawn(cli.command, argv, { cwd: options.cwd, env, stdio: ['ignore', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (d) => (stdout += d));
    child.stderr.on('data', (d) => (stderr += d));
    child.on('error', (cause) =>
      reject(new DevcontainerCliError(`cannot run '${shown}': ${cause.message} (is @devcontainers/cli installed?)`, null, '', { cause })),
    );
    child.on('close', (code) => {
      if (code === 0) return resolve(stdout);
      const output = `${stderr}\n${stdout}`.trim().split('\n').slice(-30).join('\n');
      reject(new DevcontainerCliError(`'${shown}' failed with exit code ${code}:\n${output}`, code, output));
    });
  });
}
