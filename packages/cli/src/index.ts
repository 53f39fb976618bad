export * from './cli';
export * from './cli-environment';
export * from './dcf-error';
