export * from './prepare-image';
export * from './manifest-image';
export * from './image-checks';
export * from './release-stage';
