export * from './pipeline-stack';
export * from './upload-pipeline';
export * from './project-role';
export * from './buildspec';
export * from './buildspec-runner';
export * from './pipeline-resource-props';
