/** `dcf local run [catalog]`: the factory's stages on this machine, against a local OCI registry, without AWS. */
import { existsSync } from 'node:fs';
import { dirname, join, relative } from 'node:path';
import { Command } from 'commander';
import type { DevcontainerCli } from '@devcontainer-factory/core';
import { DcfError, ExitCode } from '../dcf-error';
import { hostPlatform } from '../local/container-engine';
import { approvalNote, readLocalCatalog } from '../local/local-catalog';
import { localRegistryHostProblem, openLocalRegistry } from '../local/local-registry';
import { runLocalCatalog, type LocalRunResult } from '../local/local-run';
import { parseRetentionFlags, retentionSummary, runLocalRetention } from '../local/local-retention';
import type { StageReport } from '../local/local-stages';
import { formatDuration, table, type Output } from '../private/output';
import type { App } from '../private/session';

interface LocalRunOptions {
  readonly registry?: string;
  readonly keepRunning?: boolean;
  readonly devcontainer?: string;
}

const RUN_EXAMPLES = `
Examples:
  $ dcf local run examples/catalog.yaml                     the example catalogue, in a registry of its own
  $ dcf local run examples --keep-running                   …and leave the registry running to pull from it
  $ dcf local run examples --registry localhost:5000        use (and keep) the registry at localhost:5000
  $ dcf local run ./catalog.yaml --json                     the results as JSON

The catalogue is the factory app's catalogue file (namespace, images, features;
YAML or JSON); each image's configuration is in images/<id>/ and each feature's in
features/<id>/ next to it. Images are built for this machine's platform only.
`;

/** The devcontainer CLI: --devcontainer, DCF_DEVCONTAINER_CLI, the nearest node_modules/.bin/devcontainer, else `devcontainer` on the PATH. */
export function findDevcontainerCli(explicit: string | undefined, env: Readonly<Record<string, string | undefined>>, from: readonly string[]): DevcontainerCli {
  const chosen = explicit ?? env.DCF_DEVCONTAINER_CLI;
  if (chosen) return { command: chosen };
  for (const start of from) {
    for (let dir = start; ; dir = dirname(dir)) {
      const candidate = join(dir, 'node_modules', '.bin', 'devcontainer');
      if (existsSync(candidate)) return { command: candidate };
      if (dirname(dir) === dir) break;
    }
  }
  return { command: 'devcontainer' };
}

function mark(out: Output, status: StageReport['status']): string {
  return status === 'ok' ? out.errStyle.green('✔') : status === 'skipped' ? out.errStyle.dim('–') : out.errStyle.red('✖');
}

function seconds(ms: number): string {
  return ms < 60_000 ? `${(ms / 1000).toFixed(1)}s` : formatDuration(ms);
}

export function localCommand(app: App): Command {
  const local = new Command('local')
    .summary("run the factory's stages on this machine, against a local registry")
    .description(
      'Run the image and feature pipelines of devcontainer-factory on this machine, without AWS: a local OCI registry ' +
        "(Debian's docker-registry), podman and buildah for the images, the devcontainer CLI for builds and features, and the " +
        'same Prepare, Manifest, Release and publish logic as the cloud stages.',
    )
    .addHelpText('after', RUN_EXAMPLES);
  const run: Command = new Command('run')
    .summary('build, test and release a catalogue into a local registry')
    .description(
      'For each image: validate → pack → prepare (build id; skip build, manifest and test when released) → build (host platform) → ' +
        'manifest → test → release. For each feature: validate → layout → version guard → publish → collection. ' +
        'Starts docker-registry on a free port of localhost (or uses --registry) and stops it at the end unless --keep-running.',
    )
    .argument('[catalog]', 'catalogue file, or a folder holding catalog.yaml', '.')
    .option('--registry <host>', 'use the registry running at localhost:<port> instead of starting one (it is left running)')
    .option('--keep-running', 'leave the registry that dcf local started running, to pull from it')
    .option(
      '--devcontainer <command>',
      'devcontainer CLI to run (default: DCF_DEVCONTAINER_CLI, else the nearest node_modules/.bin/devcontainer, else devcontainer on the PATH)',
    )
    .addHelpText('after', RUN_EXAMPLES)
    .action(
      app.action(async (session, catalogPath: string, options: LocalRunOptions) => {
        const { out, env } = session;
        const hostProblem = options.registry === undefined ? undefined : localRegistryHostProblem(options.registry);
        if (hostProblem) throw new DcfError(`--registry: ${hostProblem}`, ExitCode.Usage);
        const explicitNamespace = (run.optsWithGlobals() as { namespace?: string }).namespace ?? env.env.DCF_NAMESPACE;
        // Errors of the catalogue, the host and the registry reach the user as they are (see classifyError).
        const catalog = readLocalCatalog(session.path(catalogPath), explicitNamespace);
        const platform = hostPlatform();
        const registry = await openLocalRegistry({ host: options.registry, keepRunning: options.keepRunning === true });
        const shownCatalog = relative(env.cwd, catalog.file) || catalog.file;
        out.note(
          `dcf local: ${shownCatalog}, namespace ${catalog.namespace}, registry ${registry.host} (${registry.started ? 'started' : 'already running'}), platform ${platform}`,
        );
        const approvals = approvalNote(catalog);
        if (approvals) out.note(out.errStyle.dim(approvals));
        let result: LocalRunResult;
        let current = '';
        try {
          result = await runLocalCatalog({
            catalog,
            registryHost: registry.host,
            devcontainer: findDevcontainerCli(options.devcontainer, env.env, [env.cwd, __dirname]),
            platform,
            now: () => env.clock.now(),
            log: (line) => out.note(out.errStyle.dim(line)),
            listener: (subject, report) => {
              const heading = `${subject.kind} ${subject.id}`;
              if (heading !== current) {
                current = heading;
                out.note(out.errStyle.bold(heading));
              }
              const time = report.status === 'skipped' ? '' : `  ${out.errStyle.dim(seconds(report.ms))}`;
              out.note(`  ${mark(out, report.status)} ${report.stage.padEnd(13)} ${report.detail}${time}`);
            },
          });
        } catch (e) {
          await registry.stop();
          throw e;
        }
        const keep = options.keepRunning === true && registry.started;
        if (keep) registry.detach();
        else await registry.stop();

        if (out.json) {
          out.data({ ...result, registryKeptRunning: keep || !registry.started, ...(keep ? { registryPid: registry.pid, registryDir: registry.dir } : {}) });
        } else {
          printSummary(out, result);
          if (keep) out.print(`registry ${registry.host} keeps running (pid ${registry.pid}, storage ${registry.dir}); stop it with: kill ${registry.pid}`);
          else if (registry.started) out.print(out.style.dim(`registry ${registry.host} stopped and its storage removed (pass --keep-running to keep it)`));
        }
        if (!result.ok) {
          const failed = [...result.images, ...result.features].filter((r) => r.status === 'failed').map((r) => r.id);
          out.error(
            `${failed.join(', ')} failed: see the stages above${out.json ? ' (in "stages")' : ''}; fix the configuration and run again (released builds are skipped)`,
          );
          return ExitCode.PipelineFailed;
        }
        return ExitCode.Ok;
      }),
    );
  local.addCommand(run);
  const retention: Command = new Command('retention')
    .summary("plan and apply retention of the catalogue's repositories in a local registry")
    .description(
      'For each image: plans its staging repository <ns>/builds/<id> (deletes builds released or older than --staging-days) and its ' +
        'release repository <ns>/images/<id> (keeps every X.Y.Z, X.Y, X, latest, the newest --keep-date-tags date tags and what a kept ' +
        'index references), prints each plan, and deletes unless --dry-run.',
    )
    .argument('[catalog]', 'catalogue file, or a folder holding catalog.yaml', '.')
    .requiredOption('--registry <host>', 'the registry to clean, localhost:<port> (e.g. the one dcf local run --keep-running left running)')
    .option('--dry-run', 'print the plans, delete nothing')
    .option(
      '--keep-date-tags <n>',
      "date tags (YYYYMMDD) to keep per release repository, newest first (default: the image's keepDateTags in the catalogue, else 10)",
    )
    .option('--staging-days <n>', 'delete staging builds created more than this many days ago (default: 14)')
    .action(
      app.action(async (session, catalogPath: string, options: { registry: string; dryRun?: boolean; keepDateTags?: string; stagingDays?: string }) => {
        const { out, env } = session;
        const hostProblem = localRegistryHostProblem(options.registry);
        if (hostProblem) throw new DcfError(`--registry: ${hostProblem}`, ExitCode.Usage);
        const counts = parseRetentionFlags(options);
        const catalog = readLocalCatalog(session.path(catalogPath), (retention.optsWithGlobals() as { namespace?: string }).namespace ?? env.env.DCF_NAMESPACE);
        await openLocalRegistry({ host: options.registry });
        let result;
        try {
          result = await runLocalRetention({
            catalog,
            registryHost: options.registry,
            dryRun: options.dryRun === true,
            ...counts,
            now: new Date(env.clock.now()),
            log: (line) => (out.json ? undefined : out.print(line)),
          });
        } catch (e) {
          throw new DcfError(`retention failed: ${(e as Error).message}`, ExitCode.Aws, { cause: e });
        }
        if (out.json) out.data(result);
        else for (const line of retentionSummary(result)) out.print(line);
        return ExitCode.Ok;
      }),
    );
  local.addCommand(retention);
  return local;
}

function printSummary(out: Output, result: LocalRunResult): void {
  const s = out.style;
  const rows: string[][] = [['KIND', 'ID', 'RESULT', 'VERSION', 'PULL']];
  for (const i of result.images) rows.push(['image', i.id, i.status, i.version ?? '-', i.reference ?? '-']);
  for (const f of result.features) rows.push(['feature', f.id, f.status, f.version ?? '-', f.reference ?? '-']);
  out.print();
  out.print(s.bold(`Summary (${result.registry}, ${result.platform})`));
  for (const line of table(rows, (column, text) => (column === 2 ? (text.startsWith('failed') ? s.red(text) : s.green(text)) : text))) out.print(`  ${line}`);
}
