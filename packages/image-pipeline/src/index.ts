export * from './image-pipeline-options';
export * from './image-pipeline';
export * from './image-pipeline-props-error';
export * from './image-pipeline-stack';
export * from './image-retention';
