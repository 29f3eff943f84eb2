import type { IPublishPacket } from 'mqtt';
import { describe, expect, it } from 'vitest';
import { releasePublishedCopy } from '../../src/sync/published-copy.js';

const publish = (payload: Buffer | string): IPublishPacket => ({
  cmd: 'publish',
  topic: 'outpost/v1/stores/S1/events',
  payload,
  qos: 1,
  retain: false,
  dup: false,
  messageId: 1,
});

describe('releasePublishedCopy', () => {
  it("frees mqtt.js's own copy of a published batch: its memory is detached at once", () => {
    const sent = Buffer.alloc(256 * 1024, 'x');
    const copy = Buffer.from(sent);
    releasePublishedCopy(publish(copy), sent);
    expect(copy.buffer.byteLength).toBe(0);
    expect(copy.length).toBe(0);
    expect(sent.toString('latin1', 0, 3)).toBe('xxx');
  });

  it('leaves the sent payload, memory shared with others, small copies and other packets alone', () => {
    const sent = Buffer.alloc(256 * 1024, 'x');
    releasePublishedCopy(publish(sent), sent);
    expect(sent.length).toBe(256 * 1024);

    const shared = Buffer.alloc(512 * 1024, 'y');
    const slice = shared.subarray(0, 256 * 1024);
    releasePublishedCopy(publish(slice), sent);
    expect(shared.length).toBe(512 * 1024);

    // Small buffers may be slices of Node's shared pool, which must never be detached.
    const small = Buffer.from('{"v":1}');
    releasePublishedCopy(publish(small), sent);
    expect(small.toString()).toBe('{"v":1}');

    releasePublishedCopy(publish('text'), sent);
    releasePublishedCopy({ cmd: 'puback', messageId: 1 }, sent);
    releasePublishedCopy(undefined, sent);
    expect(sent.length).toBe(256 * 1024);
  });
});
