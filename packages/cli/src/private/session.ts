/**
 * One run of a command: the environment, the global options and the output,
 * plus the glue that turns a command body into a commander action and records
 * its exit code.
 */
import { resolve } from 'node:path';
import type { Command } from 'commander';
import { DEFAULT_NAMESPACE, namespaceProblem } from '@devcontainer-factory/core';
import type { AwsClients, CliEnvironment } from '../cli-environment';
import { DcfError, ExitCode } from '../dcf-error';
import { Output } from './output';

/** Options every command takes. */
export interface GlobalOptions {
  /** @default DCF_NAMESPACE, else "devcontainers" */
  readonly namespace: string;
  readonly region?: string;
  readonly profile?: string;
  readonly json: boolean;
  readonly verbose: boolean;
  /** The factory's source bucket, instead of its SSM parameter. @default DCF_SOURCE_BUCKET */
  readonly sourceBucket?: string;
  /** The factory's ECR registry host, instead of its SSM parameter. @default DCF_REGISTRY_HOST */
  readonly registryHost?: string;
}

export interface Session {
  readonly env: CliEnvironment;
  readonly options: GlobalOptions;
  readonly out: Output;
  /** AWS clients for the global --region / --profile; the SDK loads on first use. */
  readonly aws: AwsClients;
  /** A path from the command line, resolved against the working folder. */
  path(p: string): string;
}

export function globalOptionsOf(command: Command, env: CliEnvironment): GlobalOptions {
  const o = command.optsWithGlobals() as Record<string, unknown>;
  const namespace = (o.namespace as string | undefined) ?? env.env.DCF_NAMESPACE ?? DEFAULT_NAMESPACE;
  return {
    namespace,
    region: o.region as string | undefined,
    profile: o.profile as string | undefined,
    json: Boolean(o.json),
    verbose: Boolean(o.verbose),
    sourceBucket: (o.sourceBucket as string | undefined) ?? (env.env.DCF_SOURCE_BUCKET || undefined),
    registryHost: (o.registryHost as string | undefined) ?? (env.env.DCF_REGISTRY_HOST || undefined),
  };
}

/** Builds commander actions that run inside a session and record the exit code. */
export class App {
  /** Exit code of the command that ran; undefined until one has. */
  exitCode: number | undefined;
  /** Global options of the last command, known once its action ran (for the error handler). */
  options: GlobalOptions | undefined;

  constructor(readonly env: CliEnvironment) {}

  action<A extends unknown[]>(body: (session: Session, ...args: A) => Promise<number>): (...args: unknown[]) => Promise<void> {
    return async (...args: unknown[]) => {
      const command = args[args.length - 1] as Command;
      const options = globalOptionsOf(command, this.env);
      this.options = options;
      const problem = namespaceProblem(options.namespace);
      if (problem) throw new DcfError(`${problem}; pass --namespace (or set DCF_NAMESPACE)`, ExitCode.Usage);
      const session: Session = {
        env: this.env,
        options,
        out: new Output(this.env.stdout, this.env.stderr, options.json, this.env.env),
        aws: this.env.awsClients({ region: options.region, profile: options.profile }, this.env.env),
        path: (p) => resolve(this.env.cwd, p),
      };
      this.exitCode = await body(session, ...(args.slice(0, -1) as A));
    };
  }
}
