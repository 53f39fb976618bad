export * from './registry-settings-merge';
