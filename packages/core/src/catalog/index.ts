export * from './catalog-entry';
export * from './catalog-error';
export * from './catalog-file';
export * from './catalog-ids';
export * from './image-dependencies';
