/** Runs `dcf` through `exec` in the repository root (where `examples/` is), with the output captured. */
import { join } from 'node:path';
import { exec } from '../../src/cli';
import type { CliEnvironment } from '../../src/cli-environment';

/** The repository root. */
export const REPO_ROOT = join(__dirname, '../../../..');

export interface RepoRun {
  readonly code: number;
  readonly stdout: string;
  readonly stderr: string;
}

/** `dcf ...argv` from the repository root, without colours and without a namespace from the environment. */
export async function dcfInRepo(...argv: string[]): Promise<RepoRun> {
  let stdout = '';
  let stderr = '';
  const environment: Partial<CliEnvironment> = {
    stdout: { write: (s: string) => (stdout += s) },
    stderr: { write: (s: string) => (stderr += s) },
    cwd: REPO_ROOT,
    env: { ...process.env, NO_COLOR: '1', DCF_NAMESPACE: undefined },
  };
  const code = await exec(argv, environment);
  return { code, stdout, stderr };
}
