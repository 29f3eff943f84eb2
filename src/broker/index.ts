export { startEmbeddedBroker, type RunningBroker, type EmbeddedBrokerOptions } from './embedded-broker.js';
