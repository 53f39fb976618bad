#!/usr/bin/env node
import { FactoryError } from '@devcontainer-factory/core';
import { readCatalog } from './catalog';
import { addFactory, factoryApp } from './factory';

const app = factoryApp();
try {
  const catalog = readCatalog((key) => app.node.tryGetContext(key));
  addFactory(app, catalog, {
    env: { account: process.env.CDK_DEFAULT_ACCOUNT, region: process.env.CDK_DEFAULT_REGION },
  });
  app.synth();
} catch (e) {
  // Catalogue checks (CatalogError), and the constructs' own checks of what the catalogue gave them (every
  // props error of the factory's packages, and the naming rules, is a FactoryError).
  if (!(e instanceof FactoryError)) throw e;
  // A catalogue mistake is the user's to fix: the message, not a stack trace.
  console.error(`Error: bad catalogue: ${e.message}`);
  process.exitCode = 1;
}
