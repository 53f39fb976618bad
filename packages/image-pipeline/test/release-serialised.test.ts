import { App, Stack } from 'aws-cdk-lib';
import { Template } from 'aws-cdk-lib/assertions';
import { Warehouse } from '@devcontainer-factory/warehouse';
import { ImagePipeline } from '../src';

// The registry has no compare-and-swap, so "an existing X.Y.Z never moves" in the
// cloud rests on this: one pipeline per release repository, whose Release stage
// holds one execution at a time (SUPERSEDED, never PARALLEL) and has one action
// (so Release cannot run beside itself). The Release Lambda therefore needs no lock.

describe('ImagePipeline serialises the releases of its repository', () => {
  test('GIVEN an image pipeline WHEN synthesized THEN it runs in SUPERSEDED mode, and Release is the last stage with exactly one action', () => {
    // GIVEN
    const stack = new Stack(new App());
    const warehouse = Warehouse.fromNamespace(stack, 'Warehouse', 'devcontainers');

    // WHEN
    new ImagePipeline(stack, 'Python', { warehouse, imageId: 'python' });

    // THEN
    const template = Template.fromStack(stack);
    const pipelines = Object.values(template.findResources('AWS::CodePipeline::Pipeline'));
    expect(pipelines).toHaveLength(1);
    const { ExecutionMode, Stages } = pipelines[0].Properties as { ExecutionMode: string; Stages: { Name: string; Actions: { RunOrder?: number }[] }[] };
    expect(ExecutionMode).toBe('SUPERSEDED');
    const release = Stages.filter((s) => s.Name === 'Release');
    expect(release).toHaveLength(1);
    expect(Stages[Stages.length - 1].Name).toBe('Release');
    expect(release[0].Actions).toHaveLength(1);
  });

  test('GIVEN two images WHEN synthesized THEN each has its own pipeline releasing into its own repository', () => {
    // GIVEN
    const stack = new Stack(new App());
    const warehouse = Warehouse.fromNamespace(stack, 'Warehouse', 'devcontainers');

    // WHEN
    const python = new ImagePipeline(stack, 'Python', { warehouse, imageId: 'python' });
    const node = new ImagePipeline(stack, 'Node', { warehouse, imageId: 'node' });

    // THEN
    expect(python.repositoryName).toBe('devcontainers/images/python');
    expect(node.repositoryName).toBe('devcontainers/images/node');
    Template.fromStack(stack).resourceCountIs('AWS::CodePipeline::Pipeline', 2);
  });
});
