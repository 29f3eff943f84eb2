export * from './money.js';
export * from './transaction.js';
export * from './api.js';
export * from './agent-config.js';
export * from './status.js';
export * from './sync-messages.js';
export * from './hub-config.js';
