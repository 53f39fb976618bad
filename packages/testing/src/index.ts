export * from './crafted-zip';
export * from './faulty-proxy';
export * from './feature-fixtures';
export * from './local-registry';
export * from './tar-layer';
export * from './test-image';
export * from './use-local-registry';
export * from './external-tools';
