export * from './devcontainer-json';
export * from './files';
export * from './dockerfile';
export * from './validate-image';
export * from './factory-variables';
export * from './image-checks';
export * from './lockfile';
export * from './compose';
