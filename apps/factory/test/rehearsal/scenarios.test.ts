import { cpSync, mkdtempSync, readdirSync, readFileSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { rehearseAssembly, type RehearsalReport } from '../../rehearsal/rehearse-assembly';
import { removeAssemblies, synthesizeAssembly } from './synthesized-assembly';

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

async function rehearse(dir: string, namespace?: string): Promise<RehearsalReport & { lines: string[] }> {
  const lines: string[] = [];
  const report = await rehearseAssembly(dir, { catalogueFile: EXAMPLES, ...(namespace && { namespace }), log: (line) => lines.push(line) });
  return { ...report, lines };
}

const failures = (r: RehearsalReport & { lines: string[] }) => r.results.filter((s) => !s.passed).map((s) => `${s.name}: ${s.failure}`);

test.each([
  ['the default namespace', undefined],
  ['a 32-character namespace', 'platform-team-devcontainers-0032'],
])('with %s: every example image without features is released, an unchanged upload is skipped, a refresh after staging expired releases, and retention keeps what it promises; no call is denied', async (_name, namespace) => {
  // GIVEN
  // ECR takes cache prefixes of at most 30 characters: a 32-character namespace turns the ECR Public cache off.
  const dir = synthesizeAssembly({ catalog: EXAMPLES, ...(namespace && { namespace, ecrPublicCache: 'false' }) });

  // WHEN
  const report = await rehearse(dir, namespace);

  // THEN
  expect(failures(report)).toEqual([]);
  expect(report.results.map((r) => r.name)).toEqual([
    'first deploy, nothing uploaded: each pipeline runs once and stops in Source',
    'dcf push of every image: each is built, tested and released',
    'the same uploads again: Build, Manifest and Test skipped, nothing moves',
    'staging expired, then the scheduled refresh with nothing moved: Release succeeds',
    'retention after several releases keeps every X.Y.Z and latest, and deletes the released staging builds',
  ]);
  expect(report.results.flatMap((r) => r.denied)).toEqual([]);
  expect(report.line).toMatch(/^rehearsal: 5 scenarios passed, 0 failed; \d+ calls checked, 0 denied; \d+ grants never used; \d+ s$/);
  expect(report.results[1].details.join('\n')).toMatch(/Release\.Release: Succeeded — .*released as 1\.0\.0,1\.0,1,latest/);
});

test("GIVEN the Release role's scan-findings grant on staging only (as it was) WHEN the refresh runs after staging expired THEN Release fails with AccessDenied on the release repository", async () => {
  // GIVEN: the assembly with the release repository taken out of the grant.
  const dir = synthesizeAssembly({ catalog: EXAMPLES });
  const copy = mkdtempSync(join(tmpdir(), 'rehearsal-staging-only-'));
  dirs.push(copy);
  cpSync(dir, copy, { recursive: true, filter: (src) => !/[/\\]asset\.[^/\\]+$/.test(src) });
  for (const asset of readdirSync(dir).filter((f) => f.startsWith('asset.'))) symlinkSync(join(dir, asset), join(copy, asset));
  let edited = 0;
  for (const file of readdirSync(copy).filter((f) => /^devcontainers-image-.*\.template\.json$/.test(f))) {
    const template = JSON.parse(readFileSync(join(copy, file), 'utf8')) as { Resources: Record<string, { Type: string; Properties: { PolicyDocument?: { Statement: { Action: unknown; Resource: unknown }[] } } }> };
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
  expect(report.results.map((r) => r.passed)).toEqual([true, true, true, false, true]);
  expect(report.results[3].failure).toMatch(/is not authorized to perform: ecr:DescribeImageScanFindings on resource: arn:aws:ecr:eu-west-1:111111111111:repository\/devcontainers\/images\/base/);
  expect(report.results[3].denied[0]).toMatch(/ImagePipelineReleaseFuncti.* ecr:DescribeImageScanFindings arn:aws:ecr:eu-west-1:111111111111:repository\/devcontainers\/images\/base/);
  expect(report.ok).toBe(false);
});
