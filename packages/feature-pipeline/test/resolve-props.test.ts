import { App, RemovalPolicy, Stack } from 'aws-cdk-lib';
import { Warehouse } from '@devcontainer-factory/warehouse';
import { FeaturePipeline, FeaturePipelinePropsError } from '../src';
import { resolveFeaturePipelineProps } from '../src/private/resolve-props';

// The feature pipeline's props resolver on its own, and the constructor naming itself once on what it throws.

const warehouse = new Warehouse(new Stack(new App(), 'Shared'), 'Warehouse');

describe('resolveFeaturePipelineProps', () => {
  test('GIVEN only an id and a warehouse THEN every default is filled in', () => {
    expect(resolveFeaturePipelineProps({ featureId: 'hello', warehouse })).toEqual({
      featureId: 'hello',
      removalPolicy: RemovalPolicy.RETAIN,
      computeSize: 'small',
      devcontainerCliVersion: expect.stringMatching(/^\d+\.\d+\.\d+$/),
    });
  });

  test('GIVEN a compute size features do not use THEN it names the prop and the sizes, with no construct path', () => {
    expect(() => resolveFeaturePipelineProps({ featureId: 'hello', warehouse, computeSize: 'xlarge' as never })).toThrow(
      new FeaturePipelinePropsError("computeSize 'xlarge' is unknown: use small, medium, large"),
    );
  });

  test('the constructor names the construct once', () => {
    const stack = new Stack(new App(), 'Team');
    const own = new Warehouse(stack, 'Warehouse');
    expect(() => new FeaturePipeline(stack, 'Hello', { featureId: 'hello', warehouse: own, computeSize: 'xlarge' as never })).toThrow(
      /^Team\/Hello: computeSize 'xlarge' is unknown: use small, medium, large$/,
    );
  });
});
