export * from './naming';
export * from './semver';
export * from './bundles';
export * from './config';
export * from './registry/registry';
export * from './registry';
export * from './feature';
