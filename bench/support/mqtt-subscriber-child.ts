/**
 * The MQTT baseline's receiving side, in its own process like the hub: one mqtt.js client subscribed
 * with QoS 1 the way the hub subscribes (MQTT 5, a shared subscription), doing nothing with a message
 * but count it; mqtt.js acknowledges each one as soon as it is read. It reports `received` when the
 * expected number of messages is in.
 */
import { parseArgs } from 'node:util';
import mqtt from 'mqtt';
import { runStagedChild } from './staged-child.js';

const { values } = parseArgs({
  options: {
    'mqtt-url': { type: 'string' },
    topic: { type: 'string' },
    messages: { type: 'string' },
  },
});
const url = values['mqtt-url'];
const topic = values.topic;
const expected = Number(values.messages);
if (!url || !topic || !(expected > 0)) throw new Error('--mqtt-url, --topic and --messages are required');

runStagedChild(async (context) => {
  const client = await mqtt.connectAsync(url, {
    clientId: `bench-raw-subscriber-${process.pid}`,
    protocolVersion: 5,
    clean: true,
    reconnectPeriod: 0,
  });
  let messages = 0;
  let bytes = 0;
  client.on('message', (_topic, payload) => {
    messages += 1;
    bytes += payload.length;
    if (messages === expected) context.mark('received', { messages, bytes });
  });
  await client.subscribeAsync(`$share/bench-raw/${topic}`, { qos: 1 });
  return {
    url,
    takeFigures: () => ({ messages, bytes }),
    async stop() {
      await client.endAsync();
      return { messages, bytes };
    },
  };
});
