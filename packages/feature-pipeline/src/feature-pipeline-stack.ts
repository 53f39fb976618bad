import type { Construct } from 'constructs';
import { PipelineStack, type PipelineStackProps } from '@devcontainer-factory/pipeline-parts';
import { FeaturePipeline, type FeaturePipelineProps } from './feature-pipeline';

/** The props of a {@link FeaturePipeline} that finds its warehouse by namespace; the stack takes no resources of its own. */
export interface FeaturePipelineStackProps
  extends PipelineStackProps, Omit<FeaturePipelineProps, 'warehouse' | 'namespace' | 'sourceBucket' | 'encryptionKey' | 'artifactBucket' | 'failureTopic'> {}

/** A stack that holds the {@link FeaturePipeline} of one feature; deploy it after the namespace's warehouse. */
export class FeaturePipelineStack extends PipelineStack {
  public readonly featurePipeline: FeaturePipeline;

  constructor(scope: Construct, id: string | undefined, props: FeaturePipelineStackProps) {
    super(scope, id, props, { kind: 'feature', id: props.featureId, does: 'tests and publishes' });
    this.featurePipeline = new FeaturePipeline(this, 'FeaturePipeline', { ...props, warehouse: this.warehouse });
  }
}
