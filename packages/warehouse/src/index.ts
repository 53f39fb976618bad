export * from './warehouse-interface';
export * from './warehouse';
export * from './warehouse-stack';
