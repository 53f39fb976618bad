import { Stack, type StackProps } from 'aws-cdk-lib';
import type { Construct } from 'constructs';
import { DEFAULT_NAMESPACE, stackNames, validateId, validateNamespace } from '@devcontainer-factory/lambdas';
import { Warehouse } from '@devcontainer-factory/warehouse';
import { FeaturePipeline, type FeaturePipelineProps } from './feature-pipeline';

export interface FeaturePipelineStackProps extends StackProps, Omit<FeaturePipelineProps, 'warehouse'> {
  /**
   * The namespace whose warehouse the pipeline uses, found through its SSM
   * parameters at deploy time (no CloudFormation exports).
   * @default 'devcontainers'
   */
  readonly namespace?: string;
}

/** A stack that holds the {@link FeaturePipeline} of one feature; deploy it after the namespace's warehouse. */
export class FeaturePipelineStack extends Stack {
  public readonly featurePipeline: FeaturePipeline;

  constructor(scope: Construct, id: string | undefined, props: FeaturePipelineStackProps) {
    const namespace = validateNamespace(props.namespace ?? DEFAULT_NAMESPACE);
    const featureId = validateId(props.featureId, 'feature id');
    super(scope, id ?? stackNames(namespace).feature(featureId), {
      description: `devcontainer-factory ${namespace}: tests and publishes the feature '${featureId}'`,
      ...props,
    });
    const warehouse = Warehouse.fromNamespace(this, 'Warehouse', namespace);
    this.featurePipeline = new FeaturePipeline(this, 'FeaturePipeline', { ...props, warehouse });
  }
}
