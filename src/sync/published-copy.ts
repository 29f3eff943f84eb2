import type { Packet } from 'mqtt';

/** Below this, a copy is left to the garbage collector: small buffers share memory with others (Node's pool). */
const MIN_RELEASED_BYTES = 64 * 1024;

/**
 * Frees at once the copy mqtt.js kept of a QoS 1 message, once the broker acknowledged it.
 *
 * mqtt.js stores a deep copy of every QoS 1 PUBLISH (payload included) until its PUBACK, to send again
 * if the link drops, and hands that copy to the publish callback after taking it out of its store. Left
 * to the garbage collector, each batch's copy (half a megabyte or more) outlives its few milliseconds in
 * the store: it is collected only by a major collection, and a backlog's dead copies piled up to 30 MB on
 * the agent's thread between two (`npm run bench:memory`). Detaching the memory hands it to an object
 * nothing refers to, which the next minor collection frees.
 *
 * Only a copy that owns its memory whole is released (never a slice of shared memory), and never the
 * payload the caller passed in (`sent`): that one is the caller's to dispose of.
 */
export function releasePublishedCopy(packet: Packet | undefined, sent: Buffer): void {
  if (packet?.cmd !== 'publish') return;
  const copy = packet.payload;
  if (!Buffer.isBuffer(copy) || copy === sent || copy.buffer === sent.buffer) return;
  const memory = copy.buffer;
  if (
    !(memory instanceof ArrayBuffer) ||
    copy.byteOffset !== 0 ||
    copy.byteLength !== memory.byteLength ||
    memory.byteLength < MIN_RELEASED_BYTES
  )
    return;
  try {
    structuredClone(memory, { transfer: [memory] });
  } catch {
    // Memory that cannot be handed over is simply left to the garbage collector.
  }
}
