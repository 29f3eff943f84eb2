export { startHub, type RunningHub, type HubDeps } from './hub.js';
export { openHubStore } from './open-hub-store.js';
export type { HubStore, StoredEvent, StoreSummary, InsertOutcome, IncomingEvent } from './hub-store.js';
export { parseEventBatch } from './parse-event-batch.js';
