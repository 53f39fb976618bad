export * from './devcontainer-json';
