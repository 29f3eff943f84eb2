export * from './money.js';
export * from './transaction.js';
export * from './api.js';
export * from './agent-config.js';
export * from './status.js';
