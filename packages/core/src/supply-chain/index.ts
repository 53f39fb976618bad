export * from './vulnerability-gate';
export * from './scan-gate';
export * from './sbom';
export * from './image-sbom';
