export * from './devcontainer-json';
export * from './files';
