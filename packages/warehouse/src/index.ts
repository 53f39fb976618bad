export * from './warehouse-interface';
export * from './warehouse';
export * from './registry-settings';
export * from './warehouse-stack';
export * from './nag';
export * from './upload-pipeline';
export * from './pipeline-stack';
export * from './project-role';
export { artifactPrefix } from './private/warehouse-base';
