/**
 * What the CodeBuild tools share: flags parsed strictly, the registry login from the
 * environment, and one exit-code contract (0 done, 1 the input or the registry refused,
 * 2 a command line the tool does not understand), each failure said on stderr.
 */
import { parseArgs } from 'node:util';
import { FactoryError, OciRegistry } from '@devcontainer-factory/core';

/** Where a tool writes; injectable for tests. */
export interface ToolIo {
  readonly out: (line: string) => void;
  readonly err: (line: string) => void;
  readonly env: Readonly<Record<string, string | undefined>>;
}

/** Thrown for a command line a tool does not understand (exit 2). */
export class ToolUsageError extends FactoryError {}

export type Flags = Record<string, string | undefined>;

/** The values of `names`, or a usage error that lists the missing ones. */
export function requiredFlags(flags: Flags, usage: string, ...names: string[]): string[] {
  const missing = names.filter((n) => !flags[n]);
  if (missing.length > 0) throw new ToolUsageError(`missing ${missing.map((n) => `--${n}`).join(', ')}\n${usage}`);
  return names.map((n) => flags[n]!);
}

/**
 * The registry at `host`, logged in with REGISTRY_USERNAME and REGISTRY_PASSWORD (for
 * ECR: `AWS` and `aws ecr get-login-password`); anonymous without them.
 */
export function toolRegistry(host: string, io: ToolIo): OciRegistry {
  return new OciRegistry({ host, username: io.env.REGISTRY_USERNAME, password: io.env.REGISTRY_PASSWORD });
}

export interface ToolDefinition {
  /** One line: `usage: image-tool <resolve|sbom> [options] (see the package README)`. */
  readonly usage: string;
  readonly commands: Readonly<Record<string, (flags: Flags, io: ToolIo) => Promise<number>>>;
  /** Every `--name value` flag any command takes. */
  readonly flags: readonly string[];
  /** Reports a failure the tool explains itself (e.g. a list of problems); returns false to leave it to the default. */
  readonly report?: (error: unknown, io: ToolIo) => boolean;
}

/** Runs one subcommand of `tool`; returns the exit code. */
export async function runTool(tool: ToolDefinition, argv: readonly string[], io: ToolIo): Promise<number> {
  try {
    const [command, ...rest] = argv;
    const run = Object.hasOwn(tool.commands, command ?? '') ? tool.commands[command!] : undefined;
    if (!run) throw new ToolUsageError(command ? `unknown command '${command}'\n${tool.usage}` : tool.usage);
    let flags: Flags;
    try {
      flags = parseArgs({ args: [...rest], options: Object.fromEntries(tool.flags.map((o) => [o, { type: 'string' as const }])), strict: true })
        .values as Flags;
    } catch (cause) {
      throw new ToolUsageError(`${(cause as Error).message}\n${tool.usage}`, { cause });
    }
    return await run(flags, io);
  } catch (e) {
    if (e instanceof ToolUsageError) {
      io.err(e.message);
      return 2;
    }
    if (tool.report?.(e, io)) return 1;
    io.err(`error: ${(e as Error).message ?? String(e)}`);
    return 1;
  }
}
