import { readFileSync } from 'node:fs';
import { App, Aspects, Stack, Validations } from 'aws-cdk-lib';
import { AwsSolutionsChecks } from 'cdk-nag';
import { AwsSolutionsChecks as AwsSolutionsChecks2 } from 'cdk-nag-2';
import { CdkVersionError, MIN_AWS_CDK_LIB, Warehouse, requireAwsCdkLib } from '../src';

// What the constructs need of the CDK: aws-cdk-lib MIN_AWS_CDK_LIB or newer, and cdk-nag 3 when cdk-nag is used.

describe('requireAwsCdkLib', () => {
  test('GIVEN the aws-cdk-lib this workspace installs THEN it is accepted', () => {
    expect(requireAwsCdkLib()).toBe(JSON.parse(readFileSync(require.resolve('aws-cdk-lib/package.json'), 'utf8')).version);
  });

  test.each(['2.268.0', '2.257.0', '1.204.0', 'not-a-version'])('GIVEN aws-cdk-lib %s THEN it refuses, naming the version needed', (version) => {
    expect(() => requireAwsCdkLib(version)).toThrow(CdkVersionError);
    expect(() => requireAwsCdkLib(version)).toThrow(`need aws-cdk-lib ${MIN_AWS_CDK_LIB} or newer, and this app has ${version}`);
    expect(() => requireAwsCdkLib(version)).toThrow(`npm install aws-cdk-lib@^${MIN_AWS_CDK_LIB}`);
  });

  test.each([MIN_AWS_CDK_LIB, '2.276.0', '3.0.0'])('GIVEN aws-cdk-lib %s THEN it is accepted', (version) => {
    expect(requireAwsCdkLib(version)).toBe(version);
  });
});

describe('cdk-nag', () => {
  test('GIVEN cdk-nag 3 applied with Validations THEN the warehouse synthesizes: its acknowledgements are read', () => {
    const app = new App();
    const stack = new Stack(app, 'Nag3');
    new Warehouse(stack, 'Warehouse');
    Validations.of(app).addPlugins(new AwsSolutionsChecks(app));
    expect(() => app.synth()).not.toThrow();
  });

  test('GIVEN cdk-nag 2 applied as an Aspect THEN synthesis fails once, saying to use cdk-nag 3 and how', () => {
    const app = new App();
    const stack = new Stack(app, 'Nag2');
    new Warehouse(stack, 'Warehouse');
    Aspects.of(app).add(new AwsSolutionsChecks2());
    expect(() => app.synth()).toThrow(/cdk-nag 2 \(the AwsSolutions Aspect\) is applied to Nag2, and it cannot read the acknowledgements/);
    expect(() => new App().synth()).not.toThrow();
  });

  test('GIVEN cdk-nag 2 applied to the stack itself THEN it is found there too', () => {
    const app = new App();
    const stack = new Stack(app, 'Nag2Stack');
    new Warehouse(stack, 'Warehouse');
    Aspects.of(stack).add(new AwsSolutionsChecks2());
    expect(() => app.synth()).toThrow(
      /Use cdk-nag 3\.0\.2 or newer \(npm install cdk-nag@\^3\.0\.2\) and apply it with Validations\.of\(app\)\.addPlugins\(new AwsSolutionsChecks\(app\)\)/,
    );
  });
});
