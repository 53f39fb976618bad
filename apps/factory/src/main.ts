#!/usr/bin/env node
import { App } from 'aws-cdk-lib';
import { CatalogError, readCatalog } from './catalog';
import { addFactory } from './factory';

const app = new App();
try {
  const catalog = readCatalog((key) => app.node.tryGetContext(key));
  addFactory(app, catalog, {
    env: { account: process.env.CDK_DEFAULT_ACCOUNT, region: process.env.CDK_DEFAULT_REGION },
  });
  app.synth();
} catch (e) {
  if (!(e instanceof CatalogError)) throw e;
  // A catalogue mistake is the user's to fix: the message, not a stack trace.
  console.error(`Error: bad catalogue: ${e.message}`);
  process.exitCode = 1;
}
