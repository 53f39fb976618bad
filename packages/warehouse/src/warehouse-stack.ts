import { CfnOutput, Stack, type StackProps } from 'aws-cdk-lib';
import type { Construct } from 'constructs';
import { stackNames, DEFAULT_NAMESPACE, parameterPrefix, validateNamespace } from '@devcontainer-factory/core';
import { Warehouse, type WarehouseProps } from './warehouse';

export interface WarehouseStackProps extends StackProps, WarehouseProps {}

/**
 * A stack that holds one {@link Warehouse}. Termination protection is on unless
 * the caller turns it off: deleting it would orphan every pipeline of the namespace.
 *
 * Its 4 outputs (the source bucket, the registry host, the repository and parameter
 * prefixes) are the stack's, not the construct's; they never grow with the catalogue.
 */
export class WarehouseStack extends Stack {
  public readonly warehouse: Warehouse;

  constructor(scope: Construct, id?: string, props: WarehouseStackProps = {}) {
    const namespace = validateNamespace(props.namespace ?? DEFAULT_NAMESPACE);
    super(scope, id ?? stackNames(namespace).warehouse, {
      description: `devcontainer-factory ${namespace}: buckets, keys, ECR creation template and parameters`,
      terminationProtection: true,
      ...props,
    });
    const warehouse = new Warehouse(this, 'Warehouse', props);
    this.warehouse = warehouse;
    const ns = warehouse.namespace;
    // Under the warehouse's node, so that their logical ids are the ones the construct gave them before.
    new CfnOutput(warehouse, 'SourceBucketName', { value: warehouse.sourceBucket.bucketName, description: 'Upload configurations here' });
    new CfnOutput(warehouse, 'RegistryHost', { value: warehouse.registryHost, description: 'ECR registry of the images and features' });
    new CfnOutput(warehouse, 'RepositoryPrefix', { value: `${ns}/`, description: 'Every repository of the namespace starts with this' });
    new CfnOutput(warehouse, 'ParameterPrefix', { value: parameterPrefix(ns), description: 'SSM parameters the pipelines and the dcf CLI read' });
  }
}
