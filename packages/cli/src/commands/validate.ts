/** `dcf validate <dir>`: every problem of an image or feature configuration, with file, line and what to change. */
import { Command } from 'commander';
import { posix } from 'node:path';
import { formatProblem, formatSize, type ArtifactKind, type ConfigurationInput } from '@devcontainer-factory/core';
import { ExitCode } from '../dcf-error';
import { loadConfiguration, reportProblems } from '../private/configuration';
import { idOption, kindOption, maxSizeOption } from '../private/options';
import type { App, Session } from '../private/session';

interface ValidateOptions {
  readonly kind?: ArtifactKind;
  readonly id?: string;
  readonly maxSize?: number;
}

export function validateCommand(app: App): Command {
  return new Command('validate')
    .summary('check an image or feature configuration')
    .description(
      'Check an image configuration (devcontainer.json as JSONC, an image source that exists, well-formed feature references, a lockfile that agrees, a semantic version) ' +
        'or a feature (the rules of the feature pipeline). Every problem is listed with its file and line; the exit code is 1 when there is any. ' +
        "For a valid image, lists the inputs a build records (bases, the Dockerfile frontend, features), read as the pipeline's Prepare reads them.",
    )
    .argument('<dir>', 'folder that holds the configuration')
    .addOption(kindOption())
    .addOption(idOption())
    .addOption(maxSizeOption())
    .addHelpText('after', '\nExamples:\n  $ dcf validate ./python\n  $ dcf validate ./features/hello --json\n')
    .action(
      app.action(async (session, dir: string, options: ValidateOptions) => {
        const config = await loadConfiguration(session.path(dir), dir, options);
        const { out } = session;
        if (config.problems.length > 0) return reportProblems(out, config, '', 'stdout');
        const files = config.content.files.size;
        if (out.json) {
          out.data({
            kind: config.kind,
            id: config.id,
            valid: true,
            files,
            size: config.size,
            problems: [],
            warnings: config.warnings,
            ...(config.kind === 'image' && {
              inputs: config.inputs.map((i) => ({
                kind: i.kind,
                reference: i.written,
                resolved: i.reference,
                file: i.file,
                ...(i.line !== undefined && { line: i.line }),
                pinned: i.pinned,
              })),
            }),
          });
          return ExitCode.Ok;
        }
        out.print(`${out.style.green('✔')} ${config.kind} ${out.style.bold(config.id)} is valid (${plural(files, 'file')}, ${formatSize(config.size)})`);
        for (const w of config.warnings) {
          const where = formatProblem({ ...w, file: posix.join(config.shownDir, w.file), message: '' }).slice(0, -2);
          out.print(`  ${out.style.yellow('⚠')} ${out.style.bold(where)}: ${w.message}`);
        }
        if (config.kind === 'image') printInputs(out, config.shownDir, config.inputs);
        return ExitCode.Ok;
      }),
    );
}

const plural = (n: number, noun: string) => `${n} ${noun}${n === 1 ? '' : 's'}`;

/**
 * What a build of the image would record as its inputs, and so what makes it rebuild when
 * it moves: one line each, with where it is named and whether the configuration pins it.
 */
function printInputs(out: Session['out'], shownDir: string, inputs: readonly ConfigurationInput[]): void {
  if (inputs.length === 0) {
    out.print('  no inputs besides the configuration: it rebuilds only when its files change');
    return;
  }
  out.print(`  ${plural(inputs.length, 'input')} a build records (a moved tag rebuilds it, a pinned digest does not move):`);
  const kindWidth = Math.max(...inputs.map((i) => i.kind.length));
  for (const i of inputs) {
    const where = formatProblem({ file: posix.join(shownDir, i.file), ...(i.line !== undefined && { line: i.line }), message: '' }).slice(0, -2);
    const resolved = i.reference !== i.written ? ` → ${i.reference}` : '';
    const pinned = i.locked !== undefined ? ' (locked)' : i.pinned ? ' (pinned)' : '';
    out.print(`  ${i.kind.padEnd(kindWidth)}  ${i.written}${resolved}${pinned}  ${out.style.dim(where)}`);
  }
}
