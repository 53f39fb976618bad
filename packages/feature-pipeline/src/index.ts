export * from './feature-pipeline-options';
export * from './feature-pipeline';
export * from './feature-pipeline-props-error';
export * from './feature-pipeline-stack';
