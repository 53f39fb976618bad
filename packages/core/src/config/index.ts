export * from './devcontainer-json';
export * from './dockerfile';
export * from './factory-variables';
export * from './lockfile';
export * from './compose';
