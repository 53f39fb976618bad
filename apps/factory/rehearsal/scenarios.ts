/**
 * The rehearsal's scenarios on a catalogue: each drives the factory as a team would (an
 * upload through `dcf push`, a schedule firing, staging's expiry) and checks what the
 * pipelines did and what the registry holds. A scenario fails with what it expected and
 * what it found; its time is bounded.
 */
import type { Rehearsal } from './rehearsal';
import type { PipelineExecution } from './pipeline-engine';

/** A scenario's check that did not hold. */
export class ScenarioFailure extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'ScenarioFailure';
  }
}

export interface ScenarioResult {
  readonly name: string;
  readonly passed: boolean;
  readonly details: readonly string[];
  readonly failure?: string;
  readonly ms: number;
  /** Calls checked during the scenario, and how many were denied. */
  readonly calls: number;
  readonly denied: readonly string[];
}

export interface Scenario {
  readonly name: string;
  run(rehearsal: Rehearsal, log: (line: string) => void): Promise<void>;
}

/** Most time one scenario may take. */
export const SCENARIO_TIMEOUT_MS = 300_000;

function expectThat(condition: boolean, message: string): void {
  if (!condition) throw new ScenarioFailure(message);
}

/** One line per stage and action of an execution. */
export function describeExecution(e: PipelineExecution): string[] {
  return [`${e.pipeline} (${e.trigger}): ${e.status}${e.failure ? ` — ${e.failure}` : ''}`, ...e.actions.map((a) => `  ${a.stage}.${a.action}: ${a.status}${a.summary ? ` — ${a.summary.split('\n')[0].slice(0, 300)}` : ''}`)];
}

/** Runs scenarios one after another, each bounded, with what it did. */
export async function runScenarios(rehearsal: Rehearsal, scenarios: readonly Scenario[]): Promise<ScenarioResult[]> {
  const results: ScenarioResult[] = [];
  for (const scenario of scenarios) {
    const details: string[] = [];
    const before = rehearsal.calls().length;
    const started = Date.now();
    let failure: string | undefined;
    let timer: NodeJS.Timeout | undefined;
    try {
      await Promise.race([
        scenario.run(rehearsal, (line) => details.push(line)),
        new Promise<never>((_, reject) => {
          timer = setTimeout(() => reject(new ScenarioFailure(`did not finish within ${SCENARIO_TIMEOUT_MS / 1000} s`)), SCENARIO_TIMEOUT_MS);
        }),
      ]);
    } catch (error) {
      failure = error instanceof Error ? error.message : String(error);
    } finally {
      clearTimeout(timer);
    }
    const calls = rehearsal.calls().slice(before);
    results.push({
      name: scenario.name,
      passed: failure === undefined,
      details,
      ...(failure !== undefined && { failure }),
      ms: Date.now() - started,
      calls: calls.length,
      denied: calls.filter((c) => !c.allowed).map((c) => `${c.principal} ${c.action} ${c.resource}: ${c.why ?? ''}`),
    });
  }
  return results;
}

/** What a catalogue's scenarios need to know. */
export interface CatalogueUnderTest {
  readonly namespace: string;
  /** Images without features, in dependency order, each with its configuration folder. */
  readonly images: readonly { readonly id: string; readonly dir: string }[];
}

const pipelineName = (namespace: string, id: string) => `${namespace}-image-${id}`;

/** The execution the last upload or schedule started for an image's pipeline. */
function lastRun(rehearsal: Rehearsal, namespace: string, id: string, since: number): PipelineExecution {
  const runs = rehearsal.runs.slice(since).filter((r) => r.pipeline === pipelineName(namespace, id));
  expectThat(runs.length > 0, `nothing started ${pipelineName(namespace, id)}${rehearsal.refused.length ? `; refused: ${rehearsal.refused.map((r) => r.why).join('; ')}` : ''}`);
  return runs[runs.length - 1].execution;
}

/** `dcf push` of a configuration, then the run it started, which must succeed. */
async function pushAndSettle(rehearsal: Rehearsal, catalogue: CatalogueUnderTest, id: string, dir: string, since: number): Promise<PipelineExecution> {
  const push = await rehearsal.dcf(['push', dir, '--id', id, '--namespace', catalogue.namespace]);
  expectThat(push.code === 0, `dcf push ${id} exited ${push.code}: ${push.stderr.trim()}`);
  await rehearsal.settle();
  const run = lastRun(rehearsal, catalogue.namespace, id, since);
  expectThat(run.status === 'Succeeded', `${run.pipeline} did not succeed: ${run.failure}`);
  return run;
}

const statusOf = (e: PipelineExecution, stage: string) => e.stages.find((s) => s.name === stage)?.status;

/**
 * Scenario 1: the first deploy, nothing uploaded: CodePipeline runs each new pipeline
 * once, and each run stops in Source (no configuration yet) without a denied call and
 * without running a later stage.
 */
export function firstDeploy(): Scenario {
  return {
    name: 'first deploy, nothing uploaded: each pipeline runs once and stops in Source',
    async run(rehearsal, log) {
      const runs = await rehearsal.created();
      expectThat(runs.length === rehearsal.pipelines.size && runs.length > 0, `${runs.length} of ${rehearsal.pipelines.size} pipelines ran on creation`);
      for (const run of runs) {
        log(`${run.pipeline}: ${run.status} — ${run.failure ?? ''}`.slice(0, 300));
        expectThat(run.status === 'Failed' && run.stages.length === 1 && run.stages[0].name === 'Source', `${run.pipeline} did not stop in Source: ${run.stages.map((st) => `${st.name} ${st.status}`).join(', ')}`);
        expectThat(/NoSuchKey/.test(run.failure ?? ''), `${run.pipeline} failed in Source for another reason than a missing configuration: ${run.failure}`);
      }
      // What the team sees: every pipeline waits for its first upload.
      const namespace = runs[0].pipeline.replace(/-(image|feature)-[^-]+$/, '');
      const status = await rehearsal.dcf(['status', '--namespace', namespace]);
      for (const line of status.stdout.trim().split("\n")) log(`dcf status: ${line}`);
      expectThat(status.code === 0, `dcf status exited ${status.code}: ${status.stderr.trim()}`);
      const waiting = status.stdout.split('\n').filter((l) => l.includes('waiting for the first upload')).length;
      expectThat(waiting === runs.length, `dcf status shows ${waiting} of ${runs.length} pipelines waiting for their first upload:\n${status.stdout}`);
    },
  };
}

/** Scenario 2: every image uploaded with `dcf push` is built, tested and released, and pulls from its release repository. */
export function firstReleases(catalogue: CatalogueUnderTest): Scenario {
  return {
    name: 'dcf push of every image: each is built, tested and released',
    async run(rehearsal, log) {
      for (const image of catalogue.images) {
        const since = rehearsal.runs.length;
        const run = await pushAndSettle(rehearsal, catalogue, image.id, image.dir, since);
        for (const line of describeExecution(run)) log(line);
        for (const stage of ['Prepare', 'Build', 'Manifest', 'Test', 'Release']) expectThat(statusOf(run, stage) === 'Succeeded', `${run.pipeline}'s ${stage} stage is ${statusOf(run, stage)}, not Succeeded`);
        const status = await rehearsal.dcf(['status', image.id, '--namespace', catalogue.namespace]);
        expectThat(status.code === 0 && /Succeeded/.test(status.stdout.split('\n')[0] ?? ''), `dcf status ${image.id} does not say the release succeeded (exit ${status.code}): ${status.stdout}${status.stderr}`);
        log(`dcf status ${image.id}: ${status.stdout.split('\n')[0].trim()}`);
        const released = await rehearsal.registryClient().getManifest(`${catalogue.namespace}/images/${image.id}`, 'latest');
        expectThat(released !== undefined, `${catalogue.namespace}/images/${image.id}:latest does not exist after the release`);
        log(`${catalogue.namespace}/images/${image.id}:latest → ${released!.digest}`);
      }
    },
  };
}

/** Scenario 3: the same uploads again: Build, Manifest and Test are skipped and no tag moves. */
export function unchangedUploads(catalogue: CatalogueUnderTest): Scenario {
  return {
    name: 'the same uploads again: Build, Manifest and Test skipped, nothing moves',
    async run(rehearsal, log) {
      for (const image of catalogue.images) {
        const registry = rehearsal.registryClient();
        const before = (await registry.getManifest(`${catalogue.namespace}/images/${image.id}`, 'latest'))?.digest;
        const since = rehearsal.runs.length;
        const run = await pushAndSettle(rehearsal, catalogue, image.id, image.dir, since);
        for (const line of describeExecution(run)) log(line);
        for (const stage of ['Build', 'Manifest', 'Test']) expectThat(statusOf(run, stage) === 'Skipped', `${run.pipeline}'s ${stage} stage is ${statusOf(run, stage)}, not Skipped`);
        const after = (await registry.getManifest(`${catalogue.namespace}/images/${image.id}`, 'latest'))?.digest;
        expectThat(after === before, `latest of ${image.id} moved from ${before} to ${after}`);
      }
    },
  };
}

/**
 * Scenario 4: staging's expiry applied (every staged build is gone, as the creation
 * template's lifecycle rule leaves it after its days), then each image's scheduled
 * refresh fires with nothing moved: Release succeeds, reading the released build.
 */
export function refreshAfterStagingExpiry(catalogue: CatalogueUnderTest): Scenario {
  return {
    name: "staging expired, then the scheduled refresh with nothing moved: Release succeeds",
    async run(rehearsal, log) {
      const registry = rehearsal.registryClient();
      for (const image of catalogue.images) {
        const staging = `${catalogue.namespace}/builds/${image.id}`;
        const tags = await registry.listTags(staging);
        const digests = new Set<string>();
        for (const tag of tags) {
          const m = await registry.getManifest(staging, tag);
          if (m) digests.add(m.digest);
        }
        // Indexes before the images they reference, as ECR's expiry leaves no index without its images.
        const ordered = [...digests].sort((a, b) => Number(tags.includes(b)) - Number(tags.includes(a)));
        for (const digest of ordered) await registry.deleteManifest(staging, digest);
        log(`expired ${digests.size} manifest(s) of ${staging}`);
      }
      for (const image of catalogue.images) {
        const rule = rehearsal.rules.find((r) => r.service === 'scheduler.amazonaws.com' && r.targets.some((t) => t.arn.endsWith(`:${pipelineName(catalogue.namespace, image.id)}`)));
        expectThat(rule !== undefined, `no refresh schedule starts ${pipelineName(catalogue.namespace, image.id)}`);
        const since = rehearsal.runs.length;
        rehearsal.fire(rule!.name);
        await rehearsal.settle();
        const run = lastRun(rehearsal, catalogue.namespace, image.id, since);
        for (const line of describeExecution(run)) log(line);
        expectThat(run.status === 'Succeeded', `the refresh of ${image.id} failed: ${run.failure}`);
        expectThat(statusOf(run, 'Build') === 'Skipped', `the refresh of ${image.id} rebuilt it (Build ${statusOf(run, 'Build')}) though nothing moved`);
      }
    },
  };
}

/** The totals line every rehearsal ends with. */
export function totalsLine(results: readonly ScenarioResult[], calls: number, denied: number, unusedGrants: number, seconds: number): string {
  const passed = results.filter((r) => r.passed).length;
  return `rehearsal: ${passed} scenarios passed, ${results.length - passed} failed; ${calls} calls checked, ${denied} denied; ${unusedGrants} grants never used; ${Math.round(seconds)} s`;
}

/**
 * Scenario 6: two more releases of the first image (its version bumped each time), then
 * retention runs from its schedule: staging keeps no released build, the release
 * repository keeps every X.Y.Z and latest, and every delete takes the lock Release holds.
 */
export function retentionAfterReleases(catalogue: CatalogueUnderTest, copyWithVersion: (dir: string, version: string) => string): Scenario {
  return {
    name: 'retention after several releases keeps every X.Y.Z and latest, and deletes the released staging builds',
    async run(rehearsal, log) {
      const image = catalogue.images[0];
      expectThat(image !== undefined, 'the catalogue has no image to release');
      const versions = ['1.0.1', '1.0.2'];
      for (const version of versions) {
        const since = rehearsal.runs.length;
        await pushAndSettle(rehearsal, catalogue, image.id, copyWithVersion(image.dir, version), since);
        log(`released ${image.id} ${version}`);
      }
      const release = `${catalogue.namespace}/images/${image.id}`;
      const staging = `${catalogue.namespace}/builds/${image.id}`;
      const fn = rehearsal.retentionFunctionOf(release);
      const before = rehearsal.calls().length;
      const result = await rehearsal.invoke(fn, { version: '0', 'detail-type': 'Scheduled Event', source: 'aws.events', detail: {} });
      expectThat(result.ok, `retention failed: ${result.error?.name}: ${result.error?.message}\n${result.logs.slice(-1500)}`);
      const out = result.result as { repositories: { repository: string; deleted: number; kept: number; remaining: number }[] };
      for (const r of out.repositories) log(`${r.repository}: deleted ${r.deleted}, kept ${r.kept}, left ${r.remaining}`);
      const registry = rehearsal.registryClient();
      const tags = await registry.listTags(release);
      for (const tag of ['1.0.0', '1.0.1', '1.0.2', 'latest']) expectThat(tags.includes(tag), `retention lost ${release}:${tag} (tags now ${tags.join(', ')})`);
      const stagingTags = await registry.listTags(staging);
      expectThat(stagingTags.length === 0, `staging still holds ${stagingTags.join(', ')}: released builds stay there`);
      expectThat(out.repositories.find((r) => r.repository === staging)!.deleted > 0, `retention deleted nothing in ${staging}`);
      // Every batch took the lock Release holds: a conditional put and a delete of the repository's item.
      const locks = rehearsal.calls().slice(before).filter((c) => c.action === 'dynamodb:PutItem' && c.allowed);
      expectThat(locks.length >= 2, `retention took the release lock ${locks.length} time(s); each batch of deletes takes it`);
      log(`retention took the shared release lock ${locks.length} time(s), each put checked against its role's dynamodb:LeadingKeys`);
    },
  };
}
