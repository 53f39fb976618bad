import type { Construct } from 'constructs';
import { PipelineStack, type PipelineStackProps } from '@devcontainer-factory/pipeline-parts';
import { ImagePipeline, type ImagePipelineProps } from './image-pipeline';

/** The props of an {@link ImagePipeline} that finds its warehouse by namespace; the stack takes no resources of its own. */
export interface ImagePipelineStackProps
  extends
    PipelineStackProps,
    Omit<
      ImagePipelineProps,
      'warehouse' | 'namespace' | 'sourceBucket' | 'encryptionKey' | 'repository' | 'stagingRepository' | 'artifactBucket' | 'failureTopic'
    > {}

/** A stack that holds the {@link ImagePipeline} of one image; deploy it after the namespace's warehouse. */
export class ImagePipelineStack extends PipelineStack {
  public readonly imagePipeline: ImagePipeline;

  constructor(scope: Construct, id: string | undefined, props: ImagePipelineStackProps) {
    super(scope, id, props, { kind: 'image', id: props.imageId, does: 'builds, tests and releases' });
    this.imagePipeline = new ImagePipeline(this, 'ImagePipeline', { ...props, warehouse: this.warehouse });
  }
}
