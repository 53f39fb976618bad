import { Stack, type StackProps } from 'aws-cdk-lib';
import type { Construct } from 'constructs';
import { type ArtifactKind, DEFAULT_NAMESPACE, pipelineStackName, validateId, validateNamespace } from '@devcontainer-factory/core';
import { type IWarehouse, Warehouse } from '@devcontainer-factory/warehouse';

export interface PipelineStackProps extends StackProps {
  /**
   * The namespace whose warehouse the pipeline uses, found through its SSM
   * parameters at deploy time (no CloudFormation exports).
   * @default 'devcontainers'
   */
  readonly namespace?: string;
}

/** Which pipeline a {@link PipelineStack} holds. */
export interface PipelineStackSubject {
  readonly kind: ArtifactKind;
  /** The image or feature id; validated before the stack is created. */
  readonly id: string;
  /** What the pipeline does to it, for the stack description, e.g. `tests and publishes`. */
  readonly does: string;
}

/**
 * A stack that holds the pipeline of one image or feature, deployed after the
 * namespace's warehouse: named `<ns>-<kind>-<id>` (the pipeline's name) unless
 * given an id, and finding the warehouse through its SSM parameters, so that no
 * CloudFormation export ties it to the warehouse stack. The namespace and id are
 * validated before anything is created.
 */
export abstract class PipelineStack extends Stack {
  /** The namespace's warehouse, found through its SSM parameters. */
  public readonly warehouse: IWarehouse;

  protected constructor(scope: Construct, id: string | undefined, props: PipelineStackProps, subject: PipelineStackSubject) {
    const namespace = validateNamespace(props.namespace ?? DEFAULT_NAMESPACE);
    const artifactId = validateId(subject.id, `${subject.kind} id`);
    super(scope, id ?? pipelineStackName(namespace, subject.kind, artifactId), {
      description: `devcontainer-factory ${namespace}: ${subject.does} the ${subject.kind} '${artifactId}'`,
      ...props,
    });
    this.warehouse = Warehouse.fromNamespace(this, 'Warehouse', namespace);
  }
}
