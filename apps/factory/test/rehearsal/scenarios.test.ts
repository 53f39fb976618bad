import { cpSync, mkdtempSync, readdirSync, readFileSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { rehearseAssembly, type RehearsalReport } from '../../rehearsal/rehearse-assembly';
import { DEVELOPER_ROLE } from '../../rehearsal/rehearsal';
import { ACCOUNT, removeAssemblies, synthesizeAssembly } from './synthesized-assembly';
import { pipelineName } from '@devcontainer-factory/core';

// The deploy rehearsal on the example catalogue, as `nx run factory:rehearse` runs it:
// the assembly as synthesized, its Lambda bundles, moto, a CNCF registry behind the ECR
// front, every call checked against the synthesized policies. Once with the default
// namespace and once with a 32-character one; and once with the Release role's grant as
// it was before Release could read its release repository's findings.

jest.setTimeout(300_000);
const EXAMPLES = join(__dirname, '..', '..', '..', '..', 'examples', 'catalog.yaml');
const dirs: string[] = [];
afterAll(() => {
  removeAssemblies();
  for (const d of dirs) rmSync(d, { recursive: true, force: true });
});

async function rehearse(
  dir: string,
  namespace?: string,
  options: { catalogueFile?: string; ecrPublicPrefix?: string } = {},
): Promise<RehearsalReport & { lines: string[] }> {
  const lines: string[] = [];
  const report = await rehearseAssembly(dir, {
    catalogueFile: options.catalogueFile ?? EXAMPLES,
    ...(namespace && { namespace }),
    ...(options.ecrPublicPrefix && { ecrPublicPrefix: options.ecrPublicPrefix }),
    log: (line) => lines.push(line),
  });
  return { ...report, lines };
}

/** The ECR Public cache prefix of the 32-character namespace's rehearsal. */
const SHORT_CACHE_PREFIX = 'team-0032/ecr-public';

/** A copy of the example catalogue whose base image comes through the ECR Public cache at `prefix`. */
function catalogueWithCachePrefix(prefix: string): string {
  const root = mkdtempSync(join(tmpdir(), 'rehearsal-examples-'));
  dirs.push(root);
  cpSync(join(EXAMPLES, '..'), root, { recursive: true });
  const dockerfile = join(root, 'images', 'base', '.devcontainer', 'Dockerfile');
  const text = readFileSync(dockerfile, 'utf8');
  const edited = text.replace('${FACTORY_NAMESPACE}/ecr-public/', `${prefix}/`);
  expect(edited).not.toBe(text);
  writeFileSync(dockerfile, edited);
  return join(root, 'catalog.yaml');
}

/** The reports of the example catalogue's rehearsals, by namespace, with their assembly. */
const reports = new Map<string, { dir: string; report: RehearsalReport }>();

/** A copy of an assembly to edit: templates copied, asset folders linked. */
function copyWithAssets(dir: string): string {
  const copy = mkdtempSync(join(tmpdir(), 'rehearsal-edited-'));
  dirs.push(copy);
  cpSync(dir, copy, { recursive: true, filter: (src) => !/[/\\]asset\.[^/\\]+$/.test(src) });
  for (const asset of readdirSync(dir).filter((f) => f.startsWith('asset.'))) symlinkSync(join(dir, asset), join(copy, asset));
  return copy;
}

const failures = (r: RehearsalReport & { lines: string[] }) => r.results.filter((s) => !s.passed).map((s) => `${s.name}: ${s.failure}`);

test.each([
  ['the default namespace', undefined],
  ['a 32-character namespace', 'platform-team-devcontainers-0032'],
])(
  'with %s: every example feature is published and image released, an unchanged upload is skipped, a refresh after staging expired releases, a bumped feature rebuilds only its users, retention keeps what it promises, a failed Test is reported; no call is denied',
  async (_name, namespace) => {
    // GIVEN
    // ECR takes cache prefixes of at most 30 characters: with a 32-character namespace the ECR Public cache gets a
    // shorter prefix of its own, and the example's base image names it, as a team with such a namespace would write it.
    const catalogueFile = namespace ? catalogueWithCachePrefix(SHORT_CACHE_PREFIX) : EXAMPLES;
    const dir = synthesizeAssembly({
      pushers: DEVELOPER_ROLE(ACCOUNT),
      catalog: catalogueFile,
      ...(namespace && { namespace, ecrPublicCache: SHORT_CACHE_PREFIX }),
    });

    // WHEN
    const report = await rehearse(dir, namespace, { catalogueFile, ...(namespace && { ecrPublicPrefix: SHORT_CACHE_PREFIX }) });

    // THEN
    expect(failures(report)).toEqual([]);
    expect(report.results.map((r) => r.name)).toEqual([
      'first deploy, nothing uploaded: each pipeline runs once and stops in Source',
      'dcf push of every feature and image: each feature is published, each image built, tested and released',
      'the same uploads again: Build, Manifest and Test skipped, nothing moves',
      'staging expired, then the scheduled refresh with nothing moved: Release succeeds',
      'a feature changed and bumped: only the images that use it are rebuilt and released',
      'retention after several releases keeps every X.Y.Z and latest, and deletes the released staging builds',
      'a failing Test: the pipeline fails, nothing is promoted, the failure reaches the failure topic',
      'every grant is needed: removing any one statement denies a call, or it is listed as never needed',
    ]);
    expect(report.results.flatMap((r) => r.denied)).toEqual([]);
    expect(report.line).toMatch(/^rehearsal: 8 scenarios passed, 0 failed; \d+ calls checked, 0 denied; \d+ grants never used; \d+ s$/);
    const ns = namespace ?? 'devcontainers';
    // The feature is published by the real devcontainer CLI with its semantic version tags; the image that uses it is released.
    expect(report.results[1].details.join('\n')).toMatch(/Publish\.Publish: Succeeded — .*"version":"1\.0\.0","status":"published"/);
    expect(report.results[1].details.join('\n')).toMatch(new RegExp(`${ns}/features/hello: 1, 1\\.0, 1\\.0\\.0, latest`));
    expect(report.results[1].details.join('\n')).toMatch(/Release\.Release: Succeeded — .*released as 1\.0\.0,1\.0,1,latest/);
    // The bumped feature started the pipeline of the image that uses it, and no other.
    expect(report.results[4].details).toContain(`started by the publish: ${pipelineName(ns, 'image', 'greeter')}`);
    // The failed Test reached the failure topic, naming stage and action.
    expect(report.results[6].details.join('\n')).toMatch(/"stage":"Test","action":"TestAmd64"/);
    // Every Allow statement was judged, and the totals count the ones never needed.
    const spare = report.verdicts.filter((v) => v.verdict !== 'needed').length;
    expect(report.verdicts.filter((v) => v.verdict === 'needed').length).toBeGreaterThan(100);
    expect(report.line).toContain(`; ${spare} grants never used;`);
    reports.set(ns, { dir, report });
  },
);

test('GIVEN a statement the rehearsal judged needed taken out of its policy WHEN the rehearsal runs again THEN the call it named is denied and the rehearsal fails', async () => {
  // GIVEN: the default rehearsal's verdict on the statement that lets greeter's Build pull the feature it installs.
  const done = reports.get('devcontainers');
  expect(done).toBeDefined();
  const verdict = done!.report.verdicts.find(
    (v) =>
      v.verdict === 'needed' && /image-greet.*BuildRole/.test(v.principal) && v.resources.some((r) => r.endsWith(':repository/devcontainers/features/hello')),
  );
  expect(verdict).toBeDefined();
  const [stack, policyId] = verdict!.policy.split('/');
  const copy = copyWithAssets(done!.dir);
  const file = join(copy, `${stack}.template.json`);
  const template = JSON.parse(readFileSync(file, 'utf8')) as { Resources: Record<string, { Properties: { PolicyDocument: { Statement: unknown[] } } }> };
  template.Resources[policyId].Properties.PolicyDocument.Statement.splice(verdict!.statement - 1, 1);
  writeFileSync(file, JSON.stringify(template));

  // WHEN
  const report = await rehearse(copy);

  // THEN
  expect(report.ok).toBe(false);
  expect(report.results.flatMap((r) => r.denied).some((d) => d.includes(verdict!.call!.action) && d.includes(verdict!.call!.resource))).toBe(true);
});

test("GIVEN the Release role's scan-findings grant on staging only (as it was) WHEN the refresh runs after staging expired THEN Release fails with AccessDenied on the release repository", async () => {
  // GIVEN: the assembly with the release repository taken out of the grant.
  const dir = synthesizeAssembly({ pushers: DEVELOPER_ROLE(ACCOUNT), catalog: EXAMPLES });
  const copy = copyWithAssets(dir);
  let edited = 0;
  for (const file of readdirSync(copy).filter((f) => /^devcontainers-image-.*\.template\.json$/.test(f))) {
    const template = JSON.parse(readFileSync(join(copy, file), 'utf8')) as {
      Resources: Record<string, { Type: string; Properties: { PolicyDocument?: { Statement: { Action: unknown; Resource: unknown }[] } } }>;
    };
    for (const resource of Object.values(template.Resources)) {
      for (const statement of resource.Properties.PolicyDocument?.Statement ?? []) {
        if (statement.Action === 'ecr:DescribeImageScanFindings' && Array.isArray(statement.Resource)) {
          statement.Resource = statement.Resource[0];
          edited++;
        }
      }
    }
    writeFileSync(join(copy, file), JSON.stringify(template));
  }
  expect(edited).toBe(3);

  // WHEN
  const report = await rehearse(copy);

  // THEN
  expect(report.results.map((r) => r.passed)).toEqual([true, true, true, false, true, true, true, true]);
  expect(report.results[3].failure).toMatch(
    /is not authorized to perform: ecr:DescribeImageScanFindings on resource: arn:aws:ecr:eu-west-1:111111111111:repository\/devcontainers\/images\/base/,
  );
  expect(report.results[3].denied[0]).toMatch(
    /ImagePipelineReleaseFuncti.* ecr:DescribeImageScanFindings arn:aws:ecr:eu-west-1:111111111111:repository\/devcontainers\/images\/base/,
  );
  expect(report.ok).toBe(false);
});
