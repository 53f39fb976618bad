import { Stack, type StackProps } from 'aws-cdk-lib';
import type { Construct } from 'constructs';
import { stackNames, DEFAULT_NAMESPACE, validateNamespace } from '@devcontainer-factory/core';
import { Warehouse, type WarehouseProps } from './warehouse';

export interface WarehouseStackProps extends StackProps, WarehouseProps {}

/**
 * A stack that holds one {@link Warehouse}. Termination protection is on unless
 * the caller turns it off: deleting it would orphan every pipeline of the namespace.
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
    this.warehouse = new Warehouse(this, 'Warehouse', props);
  }
}
