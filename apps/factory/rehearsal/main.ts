/**
 * `nx run factory:rehearse [-- -c namespace=… -c catalog=…]`: synthesizes the factory app
 * with the same context as `nx deploy factory`, runs the rehearsal's scenarios on the
 * assembly, prints each scenario's actions and calls, the grants never used per role,
 * and the totals line. Exits 1 when a scenario failed or a call was denied.
 */
import { execFileSync } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { DEVELOPER_ROLE } from './rehearsal';
import { rehearseAssembly, REHEARSAL_ACCOUNT, REHEARSAL_REGION } from './rehearse-assembly';

async function main(argv: readonly string[]): Promise<number> {
  const app = resolve(__dirname, '..');
  const given = argv.filter((a) => a !== '--');
  // Without a catalogue, the example one: its images/<id>/ folders are what the scenarios upload.
  const example = resolve(__dirname, '..', '..', '..', 'examples', 'catalog.yaml');
  const catalogArg = given.find((a) => a.startsWith('catalog='));
  const withCatalogue = catalogArg || given.some((a) => a.startsWith('images=')) ? given : [...given, '-c', `catalog=${example}`];
  // The rehearsal's dcf runs as a role of its own, which must be a pusher: the source bucket takes uploads from pushers only.
  const developer = DEVELOPER_ROLE(REHEARSAL_ACCOUNT);
  const pushers = withCatalogue.findIndex((a) => a.startsWith('pushers='));
  const context = pushers < 0 ? [...withCatalogue, '-c', `pushers=${developer}`] : withCatalogue.map((a, i) => (i === pushers ? `${a},${developer}` : a));
  const out = mkdtempSync(join(tmpdir(), 'dcf-rehearsal-assembly-'));
  try {
    const started = Date.now();
    execFileSync('pnpm', ['exec', 'cdk', 'synth', '-q', '--no-notices', '-o', out, ...context], {
      cwd: app,
      stdio: ['ignore', 'ignore', 'inherit'],
      env: {
        ...process.env,
        CDK_DISABLE_VERSION_CHECK: '1',
        CDK_DEFAULT_ACCOUNT: REHEARSAL_ACCOUNT,
        CDK_DEFAULT_REGION: REHEARSAL_REGION,
        AWS_REGION: REHEARSAL_REGION,
      },
    });
    const catalogue = catalogArg ? resolve(app, catalogArg.slice('catalog='.length)) : given.some((a) => a.startsWith('images=')) ? undefined : example;
    const namespace = context.find((a) => a.startsWith('namespace='))?.slice('namespace='.length);
    const cache = context.find((a) => a.startsWith('ecrPublicCache='))?.slice('ecrPublicCache='.length);
    const report = await rehearseAssembly(out, {
      catalogueFile: catalogue,
      ...(namespace && { namespace }),
      ...(cache && cache !== 'false' && { ecrPublicPrefix: cache }),
      startedAt: started,
      log: (line) => console.log(line),
    });
    return report.ok ? 0 : 1;
  } finally {
    rmSync(out, { recursive: true, force: true });
  }
}

main(process.argv.slice(2)).then(
  (code) => (process.exitCode = code),
  (error: unknown) => {
    console.error(error instanceof Error ? (process.env.REHEARSAL_VERBOSE ? error.stack : error.message) : String(error));
    process.exitCode = 2;
  },
);
