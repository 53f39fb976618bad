import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { App, type AppProps, Validations, type Environment } from 'aws-cdk-lib';
import { AwsSolutionsChecks } from 'cdk-nag';
import { ImagePipelineStack } from '../src';

// Each App synthesizes into a temp folder of this file's, removed after its tests (not a stray cdk.out* in the temp dir).
const cdkOutdirs: string[] = [];
afterAll(() => cdkOutdirs.splice(0).forEach((d) => rmSync(d, { recursive: true, force: true })));
function testApp(props: AppProps = {}): App {
  const outdir = mkdtempSync(join(tmpdir(), 'cdk-test-'));
  cdkOutdirs.push(outdir);
  return new App({ outdir, ...props });
}

test.each<[string, Environment | undefined, Record<string, unknown>]>([
  ['an environment-agnostic stack', undefined, {}],
  // As the factory app deploys it: a region and partition literals in ARNs.
  ['a stack with a region and partition literals', { account: '123456789012', region: 'eu-west-1' }, { '@aws-cdk/core:enablePartitionLiterals': true, '@aws-cdk/aws-iam:minimizePolicies': true }],
])('%s is clean under cdk-nag AwsSolutionsChecks', (_name, env, context) => {
  // GIVEN the stack the factory app deploys, with a base image
  const app = testApp({ context });
  new ImagePipelineStack(app, 'devcontainers-image-python', { env, imageId: 'python', dependsOn: ['base'] });
  // WHEN the checks run at synthesis
  Validations.of(app).addPlugins(new AwsSolutionsChecks(app));
  // THEN synthesis does not fail: every finding is fixed or acknowledged with its reason
  expect(() => app.synth()).not.toThrow();
});
