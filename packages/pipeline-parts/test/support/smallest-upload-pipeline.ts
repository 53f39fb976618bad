import * as codepipeline from 'aws-cdk-lib/aws-codepipeline';
import * as actions from 'aws-cdk-lib/aws-codepipeline-actions';
import type { Construct } from 'constructs';
import type { IWarehouse } from '@devcontainer-factory/warehouse';
import { addUploadPipeline, type UploadPipelineProps } from '../../src';

/** The smallest pipeline after Source, feature `hello`'s: one approval, which needs no role of its own. */
export function withUploadPipeline(scope: Construct, warehouse: IWarehouse, props: Partial<UploadPipelineProps> = {}) {
  return addUploadPipeline(scope, {
    warehouse,
    kind: 'feature',
    artifactId: 'hello',
    source: new codepipeline.Artifact('Source'),
    stages: [{ stageName: 'Approve', actions: [new actions.ManualApprovalAction({ actionName: 'Approve' })] }],
    executionMode: codepipeline.ExecutionMode.QUEUED,
    ...props,
  });
}
