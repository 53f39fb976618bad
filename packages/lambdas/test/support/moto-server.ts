/** moto_server for the integration tests: core's launcher, and what the tests give the SDK clients they point at it. */
export { startMotoServer, type MotoServer } from '@devcontainer-factory/core';

/** What tests give the SDK clients they point at moto. */
export const MOTO_CLIENT_CONFIG = { region: 'eu-west-1', credentials: { accessKeyId: 'testing', secretAccessKey: 'testing' } } as const;
