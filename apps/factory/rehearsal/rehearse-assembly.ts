/**
 * One rehearsal of a cloud assembly: load and resolve it for the made-up account, build
 * the IAM model (with the person running `dcf` as a principal of the rehearsal's own),
 * start the servers, run the scenarios on the catalogue, print what happened and the
 * totals line, and stop everything on any exit.
 */
import { cpSync, existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { basename, dirname, join } from 'node:path';
import { readCatalogFile } from '@devcontainer-factory/core';
import { loadAssembly } from './assembly';
import { RehearsalError } from './errors';
import { IamModel, type PolicyDocument, type StatementVerdict } from './iam';
import { DCF_ENTRY, DEVELOPER_ROLE, Rehearsal } from './rehearsal';
import {
  everyGrantNeeded,
  failingTest,
  featureBumped,
  firstDeploy,
  firstReleases,
  refreshAfterStagingExpiry,
  retentionAfterReleases,
  runScenarios,
  totalsLine,
  unchangedUploads,
  type CatalogueUnderTest,
  type ConfigurationUnderTest,
  type ScenarioResult,
} from './scenarios';

/** The made-up account and region the templates are resolved for. */
export const REHEARSAL_ACCOUNT = '111111111111';
export const REHEARSAL_REGION = 'eu-west-1';

/**
 * The person running `dcf`: the rehearsal's own role, which the app is synthesized with as
 * a pusher (`-c pushers=…`, see main.ts). It has no policy of its own: what it may do is
 * what the assembly grants it (`grantPushConfigurations`, attached to the role by name), so
 * every `dcf push` and `dcf status` of the scenarios checks that grant, and the source
 * bucket's policy that lets only pushers write.
 */
export const DEVELOPER_PRINCIPALS = (account = REHEARSAL_ACCOUNT): Record<string, PolicyDocument[]> => ({ [DEVELOPER_ROLE(account)]: [] });

/** Loads the assembly in `dir` and starts a rehearsal of it. */
export async function startRehearsal(
  dir: string,
  namespace: string,
  options: { findings?: (repository: string, digest: string) => unknown; repositories?: readonly string[]; ecrPublicPrefix?: string } = {},
): Promise<Rehearsal> {
  const assembly = loadAssembly(dir, { account: REHEARSAL_ACCOUNT, region: REHEARSAL_REGION });
  const iam = await IamModel.fromAssembly(assembly, { principals: DEVELOPER_PRINCIPALS() });
  const developer = DEVELOPER_ROLE(REHEARSAL_ACCOUNT);
  if (iam.actionsOf(developer).length === 0) {
    throw new RehearsalError(
      `the assembly grants the rehearsal's dcf user ${developer} nothing: synthesize it with -c pushers=${developer} (as main.ts does), so that its dcf push is an upload the source bucket takes`,
    );
  }
  return Rehearsal.start({
    assembly,
    iam,
    dcf: DCF_ENTRY,
    repositories: options.repositories ?? upstreamSeeds(options.ecrPublicPrefix ?? `${namespace}/ecr-public`).map((s) => splitReference(s)[0]),
    ...(options.findings && { findings: options.findings }),
  });
}

/**
 * The images and features of a catalogue file that the rehearsal can run: those with a
 * folder beside it (`images/<id>/`, `features/<id>/`); an image whose features are not all
 * rehearsed, or whose base image is not, is left out too.
 */
export function catalogueUnderTest(file: string, namespace?: string): CatalogueUnderTest & { readonly left: readonly string[] } {
  const catalog = readCatalogFile(file);
  const left: string[] = [];
  const features: ConfigurationUnderTest[] = [];
  for (const feature of catalog.features) {
    const dir = join(dirname(file), 'features', feature.id);
    if (existsSync(dir)) features.push({ id: feature.id, dir });
    else left.push(`feature ${feature.id} (no folder at ${dir})`);
  }
  const images: ConfigurationUnderTest[] = [];
  const usersOf: Record<string, string[]> = {};
  for (const image of catalog.images) {
    const dir = join(dirname(file), 'images', image.id);
    const missing = [
      ...(image.usesFeatures ?? []).filter((f) => !features.some((x) => x.id === f)).map((f) => `feature ${f}`),
      ...(image.dependsOn ?? []).filter((d) => !images.some((x) => x.id === d)).map((d) => `image ${d}`),
    ];
    if (!existsSync(dir)) left.push(`${image.id} (no configuration at ${dir})`);
    else if (missing.length) left.push(`${image.id} (needs ${missing.join(', ')}, which is not rehearsed)`);
    else {
      images.push({ id: image.id, dir });
      for (const f of image.usesFeatures ?? []) (usersOf[f] ??= []).push(image.id);
    }
  }
  return { namespace: namespace ?? catalog.namespace ?? 'devcontainers', images, features, usersOf, left };
}

/** The upstream images the example catalogue builds on, at the path the ECR Public pull-through cache (prefix `prefix`, by default `<ns>/ecr-public`) serves them. */
export const upstreamSeeds = (prefix: string) => [`${prefix}/docker/library/busybox:latest`];

const splitReference = (reference: string): [string, string] => {
  const at = reference.lastIndexOf(':');
  return [reference.slice(0, at), reference.slice(at + 1)];
};

/**
 * A copy of a configuration folder, in a new folder under `scratch`, whose
 * devcontainer.json (an image's) or devcontainer-feature.json (a feature's) says
 * `version`: a new configuration, as a team would bump it.
 */
export function copyWithVersion(scratch: string, dir: string, version: string): string {
  const copy = join(mkdtempSync(join(scratch, 'config-')), basename(dir));
  cpSync(dir, copy, { recursive: true });
  const feature = join(copy, 'devcontainer-feature.json');
  const file = existsSync(feature) ? feature : join(copy, '.devcontainer', 'devcontainer.json');
  const text = readFileSync(file, 'utf8');
  const bumped = text.replace(/("version"\s*:\s*")[^"]*(")/, `$1${version}$2`);
  if (bumped === text) throw new Error(`${file} has no "version" to bump`);
  writeFileSync(file, bumped);
  return copy;
}

export interface RehearsalReport {
  readonly ok: boolean;
  readonly results: readonly ScenarioResult[];
  /** What each Allow statement of each role did (scenario 8). */
  readonly verdicts: readonly StatementVerdict[];
  readonly line: string;
}

/** Rehearses the assembly in `dir` on the catalogue in `catalogueFile`. */
export async function rehearseAssembly(
  dir: string,
  options: {
    catalogueFile?: string;
    namespace?: string;
    /** The ECR Public pull-through cache's prefix (`-c ecrPublicCache=…`), where the example's base image is seeded. @default `<ns>/ecr-public` */
    ecrPublicPrefix?: string;
    startedAt?: number;
    log: (line: string) => void;
  },
): Promise<RehearsalReport> {
  const started = options.startedAt ?? Date.now();
  if (!options.catalogueFile)
    throw new Error('the rehearsal needs a catalogue file whose images/<id>/ folders hold the configurations to upload (-c catalog=…)');
  const catalogue = catalogueUnderTest(options.catalogueFile, options.namespace);
  for (const l of catalogue.left) options.log(`not rehearsed: ${l}`);
  const prefix = options.ecrPublicPrefix ?? `${catalogue.namespace}/ecr-public`;
  const rehearsal = await startRehearsal(dir, catalogue.namespace, { ecrPublicPrefix: prefix });
  const scratch = mkdtempSync(join(tmpdir(), 'dcf-rehearsal-'));
  const bump = (config: string, version: string) => copyWithVersion(scratch, config, version);
  let verdicts: readonly StatementVerdict[] = [];
  try {
    for (const seed of upstreamSeeds(prefix))
      options.log(`seeded ${seed} (what the pull-through cache's first pull brings): ${await rehearsal.seedImage(...splitReference(seed))}`);
    const results = await runScenarios(rehearsal, [
      firstDeploy(catalogue.namespace),
      firstReleases(catalogue),
      unchangedUploads(catalogue),
      refreshAfterStagingExpiry(catalogue),
      featureBumped(catalogue, bump),
      retentionAfterReleases(catalogue, bump),
      failingTest(catalogue, bump),
      everyGrantNeeded((v) => (verdicts = v)),
    ]);
    for (const r of results) {
      options.log(`${r.passed ? 'PASS' : 'FAIL'} ${r.name} (${(r.ms / 1000).toFixed(1)} s, ${r.calls} calls, ${r.denied.length} denied)`);
      for (const d of r.details) options.log(`  ${d}`);
      if (r.failure) options.log(`  failure: ${r.failure}`);
      for (const d of r.denied) options.log(`  denied: ${d}`);
    }
    const unused = verdicts.filter((v) => v.verdict !== 'needed').length;
    const calls = rehearsal.calls();
    const line = totalsLine(results, calls.length, calls.filter((c) => !c.allowed).length, unused, (Date.now() - started) / 1000);
    options.log(line);
    return { ok: results.every((r) => r.passed) && calls.every((c) => c.allowed), results, verdicts, line };
  } finally {
    await rehearsal.stop();
    rmSync(scratch, { recursive: true, force: true });
  }
}
