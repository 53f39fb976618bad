export * from './devcontainer-cli';
export * from './local-registry-server';
export * from './moto-server';
export * from './sbom-generator';
