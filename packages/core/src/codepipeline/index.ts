export * from './job-event';
export * from './image-jobs';
export * from './image-build-id';
export * from './image-source';
export * from './prepare-image';
export * from './build-inputs';
export * from './inputs-artifact';
export * from './manifest-image';
