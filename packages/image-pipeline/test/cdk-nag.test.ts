import { App, Validations, type Environment } from 'aws-cdk-lib';
import { AwsSolutionsChecks } from 'cdk-nag';
import { ImagePipelineStack } from '../src';

test.each<[string, Environment | undefined, Record<string, unknown>]>([
  ['an environment-agnostic stack', undefined, {}],
  // As the factory app deploys it: a region and partition literals in ARNs.
  [
    'a stack with a region and partition literals',
    { account: '123456789012', region: 'eu-west-1' },
    { '@aws-cdk/core:enablePartitionLiterals': true, '@aws-cdk/aws-iam:minimizePolicies': true },
  ],
])('%s is clean under cdk-nag AwsSolutionsChecks', (_name, env, context) => {
  // GIVEN the stack the factory app deploys, with a base image
  const app = new App({ context });
  new ImagePipelineStack(app, 'devcontainers-image-python', { env, imageId: 'python', dependsOn: ['base'] });
  // WHEN the checks run at synthesis
  Validations.of(app).addPlugins(new AwsSolutionsChecks(app));
  // THEN synthesis does not fail: every finding is fixed or acknowledged with its reason
  expect(() => app.synth()).not.toThrow();
});
