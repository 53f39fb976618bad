export * from './job-event';
export * from './image-jobs';
export * from './inputs-artifact';
export * from './registry-settings-resource';
