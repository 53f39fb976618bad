/**
 * Cloud assemblies for the rehearsal's tests: the factory app synthesized in-process
 * exactly as `cdk synth` writes it (the CLI's metadata context included, so templates
 * carry `aws:cdk:path` and `aws:asset:path`), and edited copies of one to test failures.
 */
import { cpSync, mkdtempSync, readFileSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { readCatalog } from '../../src/catalog';
import { addFactory, factoryApp } from '../../src/factory';

export const ACCOUNT = '111111111111';
export const REGION = 'eu-west-1';
export const ENV = { account: ACCOUNT, region: REGION };

const appRoot = join(__dirname, '..', '..');
// The feature flags of cdk.json, and what the CDK CLI adds to the context of every synth.
// eslint-disable-next-line @typescript-eslint/no-require-imports
const cdkJsonContext: Record<string, unknown> = require('../../cdk.json').context;
const CLI_CONTEXT = { 'aws:cdk:enable-path-metadata': true, 'aws:cdk:enable-asset-metadata': true, 'aws:cdk:version-reporting': true };

const dirs: string[] = [];
const tempDir = (prefix: string) => {
  const dir = mkdtempSync(join(tmpdir(), prefix));
  dirs.push(dir);
  return dir;
};

/** Removes every folder this module made (call in afterAll). */
export function removeAssemblies(): void {
  dirs.splice(0).forEach((d) => rmSync(d, { recursive: true, force: true }));
}

/** Synthesizes the factory app with `context` (as `-c key=value`) for {@link ENV}; returns the assembly folder. */
export function synthesizeAssembly(context: Record<string, string>): string {
  const outdir = tempDir('rehearsal-asm-');
  const app = factoryApp({ outdir, context: { ...cdkJsonContext, ...CLI_CONTEXT, ...context } });
  addFactory(
    app,
    readCatalog((key) => app.node.tryGetContext(key), appRoot),
    { env: ENV },
  );
  app.synth();
  return outdir;
}

/** A template as JSON, for editing. */
export type TemplateJson = { Resources: Record<string, { Type: string; Properties: Record<string, unknown> }>; [key: string]: unknown };

/**
 * A copy of the assembly in `dir` (without its asset folders) whose templates `edit`
 * changed, by stack name; returns the copy's folder.
 */
export function editedCopy(dir: string, edit: (templates: Record<string, TemplateJson>) => void): string {
  const copy = tempDir('rehearsal-edited-');
  cpSync(dir, copy, { recursive: true, filter: (src) => !/[/\\]asset\.[^/\\]+$/.test(src) });
  const files = readdirSync(copy).filter((f) => f.endsWith('.template.json'));
  const templates = Object.fromEntries(files.map((f) => [f.replace(/\.template\.json$/, ''), JSON.parse(readFileSync(join(copy, f), 'utf8')) as TemplateJson]));
  edit(templates);
  for (const [stack, template] of Object.entries(templates)) writeFileSync(join(copy, `${stack}.template.json`), JSON.stringify(template, null, 1));
  return copy;
}

/** The logical id in `template` of the one resource of `type` whose id starts with `prefix` (CDK appends a hash). */
export function logicalIdOf(template: TemplateJson, type: string, prefix: string): string {
  const ids = Object.keys(template.Resources).filter((id) => id.startsWith(prefix) && template.Resources[id].Type === type);
  if (ids.length !== 1) throw new Error(`expected one ${type} ${prefix}*, found ${ids.length}`);
  return ids[0];
}
