import { Stack, type StackProps } from 'aws-cdk-lib';
import type { Construct } from 'constructs';
import { DEFAULT_NAMESPACE, stackNames, validateId, validateNamespace } from '@devcontainer-factory/lambdas';
import { Warehouse } from '@devcontainer-factory/warehouse';
import { ImagePipeline, type ImagePipelineProps } from './image-pipeline';

export interface ImagePipelineStackProps extends StackProps, Omit<ImagePipelineProps, 'warehouse'> {
  /**
   * The namespace whose warehouse the pipeline uses, found through its SSM
   * parameters at deploy time (no CloudFormation exports).
   * @default 'devcontainers'
   */
  readonly namespace?: string;
}

/** A stack that holds the {@link ImagePipeline} of one image; deploy it after the namespace's warehouse. */
export class ImagePipelineStack extends Stack {
  public readonly imagePipeline: ImagePipeline;

  constructor(scope: Construct, id: string | undefined, props: ImagePipelineStackProps) {
    const namespace = validateNamespace(props.namespace ?? DEFAULT_NAMESPACE);
    const imageId = validateId(props.imageId, 'image id');
    super(scope, id ?? stackNames(namespace).image(imageId), {
      description: `devcontainer-factory ${namespace}: builds, tests and releases the image '${imageId}'`,
      ...props,
    });
    const warehouse = Warehouse.fromNamespace(this, 'Warehouse', namespace);
    this.imagePipeline = new ImagePipeline(this, 'ImagePipeline', { ...props, warehouse });
  }
}
