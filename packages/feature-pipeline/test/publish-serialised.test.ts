import { Stack } from 'aws-cdk-lib';
import { Template } from 'aws-cdk-lib/assertions';
import { Warehouse } from '@devcontainer-factory/warehouse';
import { FeaturePipeline } from '../src';

// The registry has no compare-and-swap, so "a published version is never
// overwritten" in the cloud rests on this: one pipeline per feature repository,
// whose Publish stage holds one execution at a time (QUEUED: runs wait for each
// other; never PARALLEL) and has one action (so Publish cannot run beside itself).

describe('FeaturePipeline serialises the publishes of its feature', () => {
  test('GIVEN a feature pipeline WHEN synthesized THEN it is not PARALLEL (QUEUED), and Publish is the last stage with exactly one action', () => {
    // GIVEN
    const stack = new Stack();
    const warehouse = Warehouse.fromNamespace(stack, 'Warehouse', 'acme');

    // WHEN
    new FeaturePipeline(stack, 'FeaturePipeline', { warehouse, featureId: 'hello' });

    // THEN
    const pipelines = Object.values(Template.fromStack(stack).findResources('AWS::CodePipeline::Pipeline'));
    expect(pipelines).toHaveLength(1);
    const { ExecutionMode, Stages } = pipelines[0].Properties as { ExecutionMode: string; Stages: { Name: string; Actions: unknown[] }[] };
    expect(ExecutionMode).not.toBe('PARALLEL');
    expect(ExecutionMode).toBe('QUEUED');
    const publish = Stages.filter((s) => s.Name === 'Publish');
    expect(publish).toHaveLength(1);
    expect(Stages[Stages.length - 1].Name).toBe('Publish');
    expect(publish[0].Actions).toHaveLength(1);
  });
});
