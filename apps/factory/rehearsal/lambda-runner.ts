/**
 * Invokes a function of the assembly as Lambda does: its bundle from its asset folder,
 * its environment from the template, its role's credentials (after the trust policy
 * let `lambda.amazonaws.com` assume it), its timeout, in a process of its own.
 */
import { execFile } from 'node:child_process';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { randomUUID } from 'node:crypto';
import type { CredentialBook } from './credentials';

/** A function as the template declares it, resolved. */
export interface RehearsalFunction {
  /** Physical name. */
  readonly name: string;
  readonly roleArn: string;
  /** The asset folder of its code in the cloud assembly. */
  readonly codeDir: string;
  readonly handler: string;
  readonly environment: Readonly<Record<string, string>>;
  readonly timeoutSeconds: number;
  /** Its log group's name. */
  readonly logGroup: string;
}

/** What one invocation did. */
export interface InvocationResult {
  readonly ok: boolean;
  readonly result?: unknown;
  readonly error?: { readonly name?: string; readonly message: string };
  /** What the function logged (stdout and stderr). */
  readonly logs: string;
  readonly ms: number;
}

export interface LambdaRunnerProps {
  readonly credentials: CredentialBook;
  /** `AWS_ENDPOINT_URL` of the invocation: the gateway. */
  readonly endpoint: string;
  readonly region: string;
  /** The registry host whose HTTPS calls go to the gateway, e.g. `111111111111.dkr.ecr.eu-west-1.amazonaws.com`. */
  readonly registryHost: string;
  /** Checks that Lambda may assume the function's role; throws when it may not. */
  readonly assume: (service: string, roleArn: string) => Promise<void>;
  /** Checks a call the function's role makes outside the function's code (its logs); throws when denied. */
  readonly authorize: (principal: string, action: string, resource: string) => Promise<void>;
  readonly account: string;
}

/**
 * What a service writes to CloudWatch Logs with a role before it runs anything: a
 * stream in the log group, then its events (the ARN IAM checks both on).
 */
export async function writeLogs(
  authorize: LambdaRunnerProps['authorize'],
  roleArn: string,
  at: { region: string; account: string; group: string; stream: string },
): Promise<void> {
  const arn = `arn:aws:logs:${at.region}:${at.account}:log-group:${at.group}:log-stream:${at.stream}`;
  await authorize(roleArn, 'logs:CreateLogStream', arn);
  await authorize(roleArn, 'logs:PutLogEvents', arn);
}

const CHILD = join(__dirname, 'lambda-child.cjs');

/** Runs one invocation. A function that runs past its timeout is stopped, and the result says so. */
export async function invokeFunction(fn: RehearsalFunction, event: unknown, props: LambdaRunnerProps): Promise<InvocationResult> {
  await props.assume('lambda.amazonaws.com', fn.roleArn);
  const day = new Date().toISOString().slice(0, 10).replace(/-/g, '/');
  await writeLogs(props.authorize, fn.roleArn, {
    region: props.region,
    account: props.account,
    group: fn.logGroup,
    stream: `${day}/[$LATEST]${randomUUID().replace(/-/g, '')}`,
  });
  const dir = await mkdtemp(join(tmpdir(), 'dcf-rehearsal-lambda-'));
  const started = Date.now();
  try {
    const eventFile = join(dir, 'event.json');
    const resultFile = join(dir, 'result.json');
    await writeFile(eventFile, JSON.stringify(event));
    const env: Record<string, string> = {
      PATH: process.env.PATH ?? '/usr/bin:/bin',
      HOME: dir,
      TMPDIR: dir,
      NODE_OPTIONS: '',
      AWS_REGION: props.region,
      AWS_DEFAULT_REGION: props.region,
      AWS_ENDPOINT_URL: props.endpoint,
      AWS_LAMBDA_FUNCTION_NAME: fn.name,
      REHEARSAL_REQUEST_ID: randomUUID(),
      REHEARSAL_REGISTRY_HOST: props.registryHost,
      REHEARSAL_TIMEOUT_MS: String(fn.timeoutSeconds * 1000),
      AWS_SDK_JS_SUPPRESS_MAINTENANCE_MODE_MESSAGE: '1',
      ...fn.environment,
      ...props.credentials.environment(fn.roleArn),
    };
    const logs = await new Promise<string>((resolve) => {
      execFile(
        process.execPath,
        ['--no-warnings', CHILD, fn.codeDir, fn.handler, eventFile, resultFile],
        { env, timeout: fn.timeoutSeconds * 1000, maxBuffer: 16 * 1024 * 1024, killSignal: 'SIGKILL' },
        (_error, stdout, stderr) => resolve(`${stdout}${stderr}`),
      );
    });
    const text = await readFile(resultFile, 'utf8').catch(() => undefined);
    if (!text)
      return {
        ok: false,
        error: { name: 'Timeout', message: `${fn.name} did not finish within its timeout of ${fn.timeoutSeconds} s, or crashed` },
        logs,
        ms: Date.now() - started,
      };
    return { ...(JSON.parse(text) as { ok: boolean; result?: unknown; error?: { name?: string; message: string } }), logs, ms: Date.now() - started };
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
}
