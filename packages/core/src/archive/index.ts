export * from './archive-content';
export * from './safe-path';
export * from './collect-files';
export * from './write-zip';
export * from './read-zip';
export * from './archive-limits';
export * from './path-clash';
