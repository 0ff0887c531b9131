export * from './client-config-schema.js';
export * from './config-schema.js';
export * from './load-config.js';
export * from './offered-engines.js';
