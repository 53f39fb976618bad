/**
 * The rehearsal's scenarios on a catalogue: each drives the factory as a team would (an
 * upload through `dcf push`, a schedule firing, staging's expiry) and checks what the
 * pipelines did and what the registry holds. A scenario fails with what it expected and
 * what it found; its time is bounded.
 */
import { createHash } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { GetObjectCommand, S3Client } from '@aws-sdk/client-s3';
import { CONFIGURATION_ARTIFACT_TYPE, readImageConfiguration } from '@devcontainer-factory/core';
import { pipelineName as factoryPipelineName } from '@devcontainer-factory/core';
import type { StatementVerdict } from './iam';
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
  return [
    `${e.pipeline} (${e.trigger}): ${e.status}${e.failure ? ` — ${e.failure}` : ''}`,
    ...e.actions.map((a) => `  ${a.stage}.${a.action}: ${a.status}${a.summary ? ` — ${a.summary.split('\n')[0].slice(0, 300)}` : ''}`),
  ];
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

/** A configuration of the catalogue: its id and its folder. */
export interface ConfigurationUnderTest {
  readonly id: string;
  readonly dir: string;
}

/** What a catalogue's scenarios need to know. */
export interface CatalogueUnderTest {
  readonly namespace: string;
  /** Images, in dependency order, each with its configuration folder. */
  readonly images: readonly ConfigurationUnderTest[];
  /** Features, each with its folder; published before the images that use them. */
  readonly features: readonly ConfigurationUnderTest[];
  /** Ids of the images that use each feature. */
  readonly usersOf: Readonly<Record<string, readonly string[]>>;
}

type Kind = 'image' | 'feature';
/** The factory's name of the pipeline of an image (by default) or feature. */
const pipelineName = (namespace: string, id: string, kind: Kind = 'image') => factoryPipelineName(namespace, kind, id);

/** The executions an upload or schedule started, since `since`, for one pipeline. */
function runsOf(rehearsal: Rehearsal, pipeline: string, since: number): PipelineExecution[] {
  return rehearsal.runs
    .slice(since)
    .filter((r) => r.pipeline === pipeline)
    .map((r) => r.execution);
}

/** The execution the last upload or schedule started for a pipeline. */
function lastRun(rehearsal: Rehearsal, namespace: string, id: string, since: number, kind: Kind = 'image'): PipelineExecution {
  const runs = runsOf(rehearsal, pipelineName(namespace, id, kind), since);
  expectThat(
    runs.length > 0,
    `nothing started ${pipelineName(namespace, id, kind)}${rehearsal.refused.length ? `; refused: ${rehearsal.refused.map((r) => r.why).join('; ')}` : ''}`,
  );
  return runs[runs.length - 1];
}

/** `dcf push` of a configuration, then the run it started, which must succeed. */
async function pushAndSettle(
  rehearsal: Rehearsal,
  catalogue: CatalogueUnderTest,
  id: string,
  dir: string,
  since: number,
  kind: Kind = 'image',
): Promise<PipelineExecution> {
  const push = await rehearsal.dcf(['push', dir, '--id', id, '--kind', kind, '--namespace', catalogue.namespace]);
  expectThat(push.code === 0, `dcf push ${id} exited ${push.code}: ${push.stderr.trim()}`);
  await rehearsal.settle();
  // The upload's own run: the first one of its pipeline since the push (a feature's publish may start image pipelines after it).
  const runs = runsOf(rehearsal, pipelineName(catalogue.namespace, id, kind), since);
  expectThat(
    runs.length > 0,
    `nothing started ${pipelineName(catalogue.namespace, id, kind)}${rehearsal.refused.length ? `; refused: ${rehearsal.refused.map((r) => r.why).join('; ')}` : ''}`,
  );
  const run = kind === 'feature' ? runs[0] : runs[runs.length - 1];
  expectThat(run.status === 'Succeeded', `${run.pipeline} did not succeed: ${run.failure}`);
  return run;
}

/** The digest of each tag of a repository. */
async function tagDigests(rehearsal: Rehearsal, repository: string): Promise<Record<string, string>> {
  const registry = rehearsal.registryClient();
  const out: Record<string, string> = {};
  for (const tag of (await registry.listTags(repository)).sort()) {
    const m = await registry.getManifest(repository, tag);
    if (m) out[tag] = m.digest;
  }
  return out;
}

const statusOf = (e: PipelineExecution, stage: string) => e.stages.find((s) => s.name === stage)?.status;

/**
 * Scenario 1: the first deploy, nothing uploaded: CodePipeline runs each new pipeline
 * once, and each run stops in Source (no configuration yet) without a denied call and
 * without running a later stage.
 */
export function firstDeploy(namespace: string): Scenario {
  return {
    name: 'first deploy, nothing uploaded: each pipeline runs once and stops in Source',
    async run(rehearsal, log) {
      const sent = rehearsal.notifications.length;
      const runs = await rehearsal.created();
      await rehearsal.settle();
      expectThat(runs.length === rehearsal.pipelines.size && runs.length > 0, `${runs.length} of ${rehearsal.pipelines.size} pipelines ran on creation`);
      for (const run of runs) {
        log(`${run.pipeline}: ${run.status} — ${run.failure ?? ''}`.slice(0, 300));
        expectThat(
          run.status === 'Failed' && run.stages.length === 1 && run.stages[0].name === 'Source',
          `${run.pipeline} did not stop in Source: ${run.stages.map((st) => `${st.name} ${st.status}`).join(', ')}`,
        );
        expectThat(/NoSuchKey/.test(run.failure ?? ''), `${run.pipeline} failed in Source for another reason than a missing configuration: ${run.failure}`);
      }
      // What reaches the failure topic: a run that stops in Source for want of a first upload is no failure to report.
      const noise = rehearsal.notifications.slice(sent);
      for (const m of noise) log(`sent on the first deploy: ${m.message.slice(0, 200)}`);
      expectThat(noise.length === 0, `the first deploy sent ${noise.length} failure message(s) for pipelines that only wait for their first upload`);
      // What the team sees: every pipeline waits for its first upload.
      const status = await rehearsal.dcf(['status', '--namespace', namespace]);
      for (const line of status.stdout.trim().split('\n')) log(`dcf status: ${line}`);
      expectThat(status.code === 0, `dcf status exited ${status.code}: ${status.stderr.trim()}`);
      const waiting = status.stdout.split('\n').filter((l) => l.includes('waiting for the first upload')).length;
      expectThat(waiting === runs.length, `dcf status shows ${waiting} of ${runs.length} pipelines waiting for their first upload:\n${status.stdout}`);
    },
  };
}

/**
 * Scenario 2: every feature uploaded with `dcf push` is tested and published with its
 * semantic version tags, then every image is built, tested and released, and pulls from
 * its release repository.
 */
export function firstReleases(catalogue: CatalogueUnderTest): Scenario {
  return {
    name: 'dcf push of every feature and image: each feature is published, each image built, tested and released',
    async run(rehearsal, log) {
      for (const feature of catalogue.features) {
        const since = rehearsal.runs.length;
        const run = await pushAndSettle(rehearsal, catalogue, feature.id, feature.dir, since, 'feature');
        for (const line of describeExecution(run)) log(line);
        for (const stage of ['Test', 'Publish'])
          expectThat(statusOf(run, stage) === 'Succeeded', `${run.pipeline}'s ${stage} stage is ${statusOf(run, stage)}, not Succeeded`);
        const version = readFeatureVersion(feature.dir);
        const [major, minor] = version.split('.');
        const tags = await tagDigests(rehearsal, `${catalogue.namespace}/features/${feature.id}`);
        for (const tag of [version, `${major}.${minor}`, major, 'latest'])
          expectThat(
            tags[tag] !== undefined,
            `${catalogue.namespace}/features/${feature.id}:${tag} does not exist after the publish (tags: ${Object.keys(tags).join(', ')})`,
          );
        log(`${catalogue.namespace}/features/${feature.id}: ${Object.keys(tags).join(', ')} → ${tags[version]}`);
      }
      for (const image of catalogue.images) {
        const since = rehearsal.runs.length;
        const run = await pushAndSettle(rehearsal, catalogue, image.id, image.dir, since);
        for (const line of describeExecution(run)) log(line);
        for (const stage of ['Prepare', 'Build', 'Manifest', 'Test', 'Release'])
          expectThat(statusOf(run, stage) === 'Succeeded', `${run.pipeline}'s ${stage} stage is ${statusOf(run, stage)}, not Succeeded`);
        const status = await rehearsal.dcf(['status', image.id, '--namespace', catalogue.namespace]);
        expectThat(
          status.code === 0 && /Succeeded/.test(status.stdout.split('\n')[0] ?? ''),
          `dcf status ${image.id} does not say the release succeeded (exit ${status.code}): ${status.stdout}${status.stderr}`,
        );
        log(`dcf status ${image.id}: ${status.stdout.split('\n')[0].trim()}`);
        const released = await rehearsal.registryClient().getManifest(`${catalogue.namespace}/images/${image.id}`, 'latest');
        expectThat(released !== undefined, `${catalogue.namespace}/images/${image.id}:latest does not exist after the release`);
        log(`${catalogue.namespace}/images/${image.id}:latest → ${released!.digest}`);
        await expectConfigurationKept(rehearsal, run, `${catalogue.namespace}/images/${image.id}`, released!, log);
      }
      // What the team sees, with nothing but the pusher's grant: every release and feature.
      const list = await rehearsal.dcf(['list', '--namespace', catalogue.namespace]);
      expectThat(list.code === 0, `dcf list exited ${list.code}: ${list.stderr.trim()}`);
      for (const { id } of [...catalogue.images, ...catalogue.features])
        expectThat(new RegExp(`\\b${id}\\b`).test(list.stdout), `dcf list does not list ${id}:\n${list.stdout}`);
      for (const line of list.stdout.trim().split('\n')) log(`dcf list: ${line}`);
    },
  };
}

/**
 * What was shipped: the released index carries, as its configuration referrer, the exact
 * zip the run's Source action read (the uploaded object version, as S3 holds it), and the
 * index records that zip's digest.
 */
async function expectConfigurationKept(
  rehearsal: Rehearsal,
  run: PipelineExecution,
  repository: string,
  index: { digest: string; body: Buffer },
  log: (line: string) => void,
): Promise<void> {
  const pipeline = rehearsal.pipelines.get(run.pipeline);
  const source = pipeline?.stages[0]?.actions.find((a) => a.provider === 'S3')?.configuration;
  const versionId = run.variables.get('Source')?.get('VersionId');
  expectThat(source !== undefined && versionId !== undefined, `${run.pipeline} has no S3 source action, or its run no source version`);
  // S3's own read of the object version the run started from (moto checks no signature).
  const s3 = new S3Client({
    region: pipeline!.arn.split(':')[3],
    endpoint: rehearsal.moto.endpoint,
    forcePathStyle: true,
    credentials: { accessKeyId: 'rehearsal-admin', secretAccessKey: 'rehearsal-admin' },
  });
  let uploaded: Buffer;
  try {
    const object = await s3.send(
      new GetObjectCommand({ Bucket: String(source!.S3Bucket), Key: String(source!.S3ObjectKey), ...(versionId !== 'null' && { VersionId: versionId }) }),
    );
    uploaded = Buffer.from(await object.Body!.transformToByteArray());
  } finally {
    s3.destroy();
  }
  const digest = `sha256:${createHash('sha256').update(uploaded).digest('hex')}`;
  const kept = await readImageConfiguration(rehearsal.registryClient(), repository, index);
  expectThat(
    kept !== undefined,
    `${repository}@${index.digest} has no referrer of type ${CONFIGURATION_ARTIFACT_TYPE}: the release does not keep the configuration it was built from`,
  );
  expectThat(
    kept!.digest === digest && kept!.bytes.equals(uploaded),
    `${repository}@${index.digest} keeps the configuration ${kept!.digest}, not the uploaded zip ${digest}`,
  );
  expectThat(kept!.recorded, `${repository}@${index.digest} records no configuration digest to check the kept zip against`);
  log(
    `${repository}@${index.digest.slice(0, 19)} keeps the uploaded zip (${digest.slice(0, 19)}, ${uploaded.length} bytes) as referrer ${kept!.referrer.digest.slice(0, 19)}`,
  );
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
        for (const stage of ['Build', 'Manifest', 'Test'])
          expectThat(statusOf(run, stage) === 'Skipped', `${run.pipeline}'s ${stage} stage is ${statusOf(run, stage)}, not Skipped`);
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
    name: 'staging expired, then the scheduled refresh with nothing moved: Release succeeds',
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
        const rule = rehearsal.rules.find(
          (r) => r.service === 'scheduler.amazonaws.com' && r.targets.some((t) => t.arn.endsWith(`:${pipelineName(catalogue.namespace, image.id)}`)),
        );
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

/** The `version` of a feature folder's devcontainer-feature.json. */
function readFeatureVersion(dir: string): string {
  const file = join(dir, 'devcontainer-feature.json');
  const version = (JSON.parse(readFileSync(file, 'utf8')) as { version?: unknown }).version;
  if (typeof version !== 'string') throw new ScenarioFailure(`${file} has no "version"`);
  return version;
}

/**
 * Scenario 5: a feature changed and its version bumped, then uploaded: its publish moves
 * its X.Y, X and latest tags (X.Y.Z before it stays where it was), and its push rules
 * start the pipelines of the images that use it and no other; each of those is rebuilt
 * and released, and every other image's release stays where it was.
 */
export function featureBumped(catalogue: CatalogueUnderTest, copyWithVersion: (dir: string, version: string) => string): Scenario {
  return {
    name: 'a feature changed and bumped: only the images that use it are rebuilt and released',
    async run(rehearsal, log) {
      const feature = catalogue.features.find((f) => (catalogue.usersOf[f.id] ?? []).length > 0);
      expectThat(feature !== undefined, 'no feature of the catalogue is used by an image');
      const users = catalogue.usersOf[feature!.id];
      const version = readFeatureVersion(feature!.dir);
      const [major, minor, patch] = version.split('.').map(Number);
      const bumped = `${major}.${minor}.${patch + 1}`;
      const repository = `${catalogue.namespace}/features/${feature!.id}`;
      const before = await tagDigests(rehearsal, repository);
      const released = async () =>
        Object.fromEntries(
          await Promise.all(
            catalogue.images.map(
              async (i) => [i.id, (await rehearsal.registryClient().getManifest(`${catalogue.namespace}/images/${i.id}`, 'latest'))?.digest] as const,
            ),
          ),
        );
      const releasedBefore = await released();

      const since = rehearsal.runs.length;
      const run = await pushAndSettle(rehearsal, catalogue, feature!.id, copyWithVersion(feature!.dir, bumped), since, 'feature');
      for (const line of describeExecution(run)) log(line);
      const after = await tagDigests(rehearsal, repository);
      log(
        `${repository}: ${Object.entries(after)
          .map(([t, d]) => `${t}→${d.slice(7, 19)}`)
          .join(', ')}`,
      );
      expectThat(
        after[version] === before[version],
        `${repository}:${version} moved from ${before[version]} to ${after[version]}: a released version never moves`,
      );
      for (const tag of [bumped, `${major}.${minor}`, `${major}`, 'latest'])
        expectThat(after[tag] !== undefined && after[tag] !== before[version], `${repository}:${tag} does not point at ${bumped} (${after[tag]})`);

      const started = new Set(rehearsal.runs.slice(since).map((r) => r.pipeline));
      started.delete(run.pipeline);
      const expected = users.map((id) => pipelineName(catalogue.namespace, id));
      log(`started by the publish: ${[...started].join(', ') || 'nothing'}`);
      expectThat(
        [...started].sort().join() === [...expected].sort().join(),
        `the publish of ${feature!.id} started ${[...started].join(', ') || 'nothing'}; expected ${expected.join(', ')}`,
      );
      const releasedAfter = await released();
      for (const id of users) {
        const runs = runsOf(rehearsal, pipelineName(catalogue.namespace, id), since);
        for (const r of runs) for (const line of describeExecution(r)) log(line);
        expectThat(
          runs.every((r) => r.status === 'Succeeded'),
          `a run of ${id} after the publish failed: ${runs
            .map((r) => r.failure)
            .filter(Boolean)
            .join('; ')}`,
        );
        expectThat(statusOf(runs[0], 'Build') === 'Succeeded', `${id} was not rebuilt after ${feature!.id} ${bumped} (Build ${statusOf(runs[0], 'Build')})`);
        expectThat(releasedAfter[id] !== releasedBefore[id], `${catalogue.namespace}/images/${id}:latest did not move after its rebuild`);
      }
      for (const image of catalogue.images.filter((i) => !users.includes(i.id))) {
        expectThat(
          releasedAfter[image.id] === releasedBefore[image.id],
          `${catalogue.namespace}/images/${image.id}:latest moved though it does not use ${feature!.id}`,
        );
      }
    },
  };
}

/**
 * Scenario 7: an upload whose Test fails: the pipeline fails in Test, Release does not
 * run, no tag of the release repository moves, and the failure (pipeline, stage,
 * action, what the action reported) reaches the factory's failure topic through the
 * rules of the templates, with the topic's and key's policies checked.
 */
export function failingTest(catalogue: CatalogueUnderTest, copyWithVersion: (dir: string, version: string) => string): Scenario {
  return {
    name: 'a failing Test: the pipeline fails, nothing is promoted, the failure reaches the failure topic',
    async run(rehearsal, log) {
      const image = catalogue.images[0];
      expectThat(image !== undefined, 'the catalogue has no image to upload');
      const release = `${catalogue.namespace}/images/${image.id}`;
      const before = await tagDigests(rehearsal, release);
      const reason = "Error while executing command: bash test-project/test.sh. Reason: exit status 1 (the rehearsal's stand-in for a failing test)";
      rehearsal.failTests(`${catalogue.namespace}/builds/${image.id}`, reason);
      const since = rehearsal.runs.length;
      const sent = rehearsal.notifications.length;
      try {
        const push = await rehearsal.dcf(['push', copyWithVersion(image.dir, '9.9.9'), '--id', image.id, '--namespace', catalogue.namespace]);
        expectThat(push.code === 0, `dcf push ${image.id} exited ${push.code}: ${push.stderr.trim()}`);
        await rehearsal.settle();
      } finally {
        rehearsal.failTests(`${catalogue.namespace}/builds/${image.id}`, undefined);
      }
      const run = lastRun(rehearsal, catalogue.namespace, image.id, since);
      for (const line of describeExecution(run)) log(line);
      expectThat(
        run.status === 'Failed' && statusOf(run, 'Test') === 'Failed',
        `${run.pipeline} did not fail in Test: ${run.status}, Test ${statusOf(run, 'Test')}`,
      );
      expectThat(statusOf(run, 'Release') === undefined, `Release ran after a failed Test (${statusOf(run, 'Release')})`);
      const after = await tagDigests(rehearsal, release);
      expectThat(
        JSON.stringify(after) === JSON.stringify(before),
        `${release} changed after a failed Test: ${JSON.stringify(before)} → ${JSON.stringify(after)}`,
      );
      const messages = rehearsal.notifications.slice(sent);
      for (const m of messages) log(`to ${m.topic.split(':').pop()} (subscribers: ${m.subscribers.join(', ') || 'none'}): ${m.message.slice(0, 400)}`);
      const about = messages.map((m) => JSON.parse(m.message) as Record<string, unknown>).filter((m) => m.pipeline === run.pipeline && m.stage === 'Test');
      expectThat(
        about.length > 0,
        `no message about ${run.pipeline}'s failed Test reached a topic (${messages.length} sent${rehearsal.refused.length ? `; refused: ${rehearsal.refused.map((r) => r.why).join('; ')}` : ''})`,
      );
      expectThat(
        about.every(
          (m) => typeof m.action === 'string' && /^Test/.test(m.action) && typeof m.summary === 'string' && m.summary.includes('test-project/test.sh'),
        ),
        `the message does not say which action failed and what it reported: ${JSON.stringify(about[0])}`,
      );
      expectThat(
        about.every((m) => m.executionId === run.id),
        `the message names execution ${String(about[0].executionId)}, not ${run.id}`,
      );
    },
  };
}

/**
 * Scenario 8, after the others: every Allow statement of every role is needed by a call
 * the scenarios made (taking it out denies that call, which fails its scenario), or is
 * listed as never needed: unused (no call matched it) or redundant (each call it allowed
 * is allowed without it too). Lists what least privilege could drop.
 */
export function everyGrantNeeded(onVerdicts: (verdicts: readonly StatementVerdict[]) => void): Scenario {
  return {
    name: 'every grant is needed: removing any one statement denies a call, or it is listed as never needed',
    async run(rehearsal, log) {
      const verdicts = await rehearsal.props.iam.statementVerdicts();
      expectThat(verdicts.length > 0, 'the assembly has no Allow statements to judge');
      const needed = verdicts.filter((v) => v.verdict === 'needed');
      for (const v of needed)
        expectThat(v.call !== undefined && v.calls > 0, `${v.policy} statement ${v.statement} is judged needed without a call that needs it`);
      const spare = verdicts.filter((v) => v.verdict !== 'needed');
      log(
        `${verdicts.length} statements: ${needed.length} needed, ${spare.filter((v) => v.verdict === 'redundant').length} redundant, ${spare.filter((v) => v.verdict === 'unused').length} unused`,
      );
      for (const v of spare)
        log(
          `never needed (${v.verdict}${v.verdict === 'redundant' ? `, ${v.calls} calls also allowed without it` : ''}): ${v.principal} ${v.policy}#${v.statement}${v.sid ? ` (${v.sid})` : ''} ${v.actions.join(',')} on ${v.resources.join(',')}`,
        );
      onVerdicts(verdicts);
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
 * every image's retention runs from its schedule: staging keeps no released build, the
 * release repository keeps every X.Y.Z and latest, and every delete takes the lock
 * Release holds.
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
      // Then each image's retention runs from its schedule: what it keeps is what the README promises.
      const registry = rehearsal.registryClient();
      const kept = (tag: string) => /^\d+\.\d+\.\d+$/.test(tag) || tag === 'latest';
      for (const { id } of catalogue.images) {
        const release = `${catalogue.namespace}/images/${id}`;
        const staging = `${catalogue.namespace}/builds/${id}`;
        const promised = (await registry.listTags(release)).filter(kept);
        const fn = rehearsal.retentionFunctionOf(release);
        const before = rehearsal.calls().length;
        const result = await rehearsal.invoke(fn, { version: '0', 'detail-type': 'Scheduled Event', source: 'aws.events', detail: {} });
        expectThat(result.ok, `retention of ${id} failed: ${result.error?.name}: ${result.error?.message}\n${result.logs.slice(-1500)}`);
        const out = result.result as { repositories: { repository: string; deleted: number; kept: number; remaining: number }[] };
        for (const r of out.repositories) log(`${r.repository}: deleted ${r.deleted}, kept ${r.kept}, left ${r.remaining}`);
        const tags = await registry.listTags(release);
        for (const tag of promised) expectThat(tags.includes(tag), `retention lost ${release}:${tag} (tags now ${tags.join(', ')})`);
        const stagingTags = await registry.listTags(staging);
        expectThat(stagingTags.length === 0, `staging still holds ${stagingTags.join(', ')}: released builds stay there`);
        // Every batch of deletes took the lock Release holds: a conditional put and a delete of the repository's item.
        const locks = rehearsal
          .calls()
          .slice(before)
          .filter((c) => c.action === 'dynamodb:PutItem' && c.allowed);
        const deleted = out.repositories.reduce((n, r) => n + r.deleted, 0);
        expectThat(deleted === 0 || locks.length >= 1, `retention of ${id} deleted ${deleted} image(s) without taking the release lock`);
        if (id === image.id) {
          for (const tag of ['1.0.0', ...versions, 'latest']) expectThat(tags.includes(tag), `retention lost ${release}:${tag} (tags now ${tags.join(', ')})`);
          expectThat(out.repositories.find((r) => r.repository === staging)!.deleted > 0, `retention deleted nothing in ${staging}`);
          expectThat(locks.length >= 2, `retention took the release lock ${locks.length} time(s); each batch of deletes takes it`);
        }
        if (locks.length)
          log(`retention of ${id} took the shared release lock ${locks.length} time(s), each put checked against its role's dynamodb:LeadingKeys`);
      }
    },
  };
}
