export * from './warehouse-interface';
export * from './warehouse';
export * from './warehouse-props-error';
export * from './artifact-bucket';
export * from './pipeline-warehouse';
export * from './registry-settings';
export * from './warehouse-stack';
export * from './nag';
export { artifactPrefix } from './private/warehouse-base';
