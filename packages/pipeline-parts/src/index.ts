export * from './pipeline-stack';
export * from './upload-pipeline';
export * from './project-role';
