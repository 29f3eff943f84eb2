import net from 'node:net';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { startFaultProxy, type FaultProxy } from '../support/fault-proxy.js';

/**
 * The fault proxy is what the sync network tests trust to break the link the way they say; these check
 * that each mode does what its name promises, against a loopback echo server that records what it got.
 */

interface Echo {
  port: number;
  received: () => Buffer;
  connections: () => number;
  close(): Promise<void>;
}

async function startEcho(): Promise<Echo> {
  const chunks: Buffer[] = [];
  const sockets = new Set<net.Socket>();
  let connections = 0;
  const server = net.createServer((socket) => {
    connections++;
    sockets.add(socket);
    socket.on('error', () => {});
    socket.on('close', () => sockets.delete(socket));
    socket.on('data', (chunk: Buffer) => {
      chunks.push(chunk);
      socket.write(chunk);
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return {
    port: (server.address() as net.AddressInfo).port,
    received: () => Buffer.concat(chunks),
    connections: () => connections,
    async close() {
      for (const socket of sockets) socket.destroy();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}

interface Client {
  socket: net.Socket;
  data: () => string;
  /** Resolves with the error code (or 'closed') once the socket closes. */
  closed: Promise<string>;
}

function connect(port: number): Promise<Client> {
  return new Promise((resolve, reject) => {
    const socket = net.connect(port, '127.0.0.1');
    let data = '';
    let error = 'closed';
    socket.on('data', (chunk: Buffer) => (data += chunk.toString()));
    socket.on('error', (e: NodeJS.ErrnoException) => (error = e.code ?? e.message));
    const closed = new Promise<string>((r) => socket.once('close', () => r(error)));
    socket.once('connect', () => resolve({ socket, data: () => data, closed }));
    socket.once('error', reject);
  });
}

async function until(check: () => boolean, timeoutMs = 2000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!check()) {
    if (Date.now() > deadline) throw new Error('condition not met in time');
    await new Promise((r) => setTimeout(r, 5));
  }
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

describe('fault proxy', () => {
  let echo: Echo;
  let proxy: FaultProxy;
  const clients: net.Socket[] = [];

  beforeEach(async () => {
    echo = await startEcho();
    proxy = await startFaultProxy({ port: echo.port });
  });
  afterEach(async () => {
    for (const socket of clients.splice(0)) socket.destroy();
    await proxy.close();
    await echo.close();
  });

  const open = async () => {
    const client = await connect(proxy.port);
    clients.push(client.socket);
    return client;
  };

  it('passes bytes both ways in pass mode', async () => {
    const client = await open();
    client.socket.write('hello');
    await until(() => client.data() === 'hello');
    expect(echo.received().toString()).toBe('hello');
    expect(proxy.stats()).toMatchObject({ accepted: 1, active: 1, bytesUp: 5, bytesDown: 5 });
  });

  it('holds every chunk for the delay, in each direction, and keeps their order', async () => {
    proxy.delay(150);
    const client = await open();
    const started = Date.now();
    client.socket.write('a');
    await sleep(20);
    client.socket.write('b');
    await until(() => client.data() === 'ab');
    // Up and back down: two delays for the round trip.
    expect(Date.now() - started).toBeGreaterThanOrEqual(300);
  });

  it('refuses new connections in drop mode and leaves current ones alone unless asked', async () => {
    const before = await open();
    proxy.drop();
    // The RST may come before or after the client saw its connect; either way no byte gets through.
    const refused = net.connect(proxy.port, '127.0.0.1');
    clients.push(refused);
    refused.write('lost');
    const refusedWith = await new Promise<string>((resolve) => {
      let code = 'closed';
      refused.on('error', (e: NodeJS.ErrnoException) => (code = e.code ?? e.message));
      refused.once('close', () => resolve(code));
    });
    expect(refusedWith).toMatch(/ECONNRESET|EPIPE|closed/);
    before.socket.write('still');
    await until(() => before.data() === 'still');
    proxy.drop({ resetExisting: true });
    expect(await before.closed).toBe('ECONNRESET');
    proxy.pass();
    const after = await open();
    after.socket.write('back');
    await until(() => after.data() === 'back');
    expect(echo.received().toString()).toBe('stillback');
    expect(proxy.stats().refused).toBe(1);
  });

  it('stalls a black-holed link with its sockets open, and lets the held bytes through on pass', async () => {
    const client = await open();
    client.socket.write('one');
    await until(() => client.data() === 'one');
    proxy.blackHole();
    client.socket.write('two');
    const late = await open();
    late.socket.write('late');
    await sleep(300);
    expect(client.data()).toBe('one');
    expect(echo.received().toString()).toBe('one');
    expect(echo.connections()).toBe(1);
    expect(client.socket.destroyed).toBe(false);
    proxy.pass();
    await until(() => client.data() === 'onetwo' && late.data() === 'late');
  });

  it('resets every current connection with an RST', async () => {
    const a = await open();
    const b = await open();
    a.socket.write('x');
    await until(() => a.data() === 'x');
    expect(proxy.reset()).toBe(2);
    expect(await a.closed).toBe('ECONNRESET');
    expect(await b.closed).toBe('ECONNRESET');
    await until(() => proxy.stats().active === 0);
  });

  it('cuts a connection after exactly n bytes, in the middle of a write', async () => {
    const client = await open();
    client.socket.write('0123');
    await until(() => client.data() === '0123');
    const cut = proxy.cutAfterBytes(10);
    client.socket.write('abcdefghijklmnopqrstuvwxyz');
    await cut;
    expect(await client.closed).toBe('ECONNRESET');
    await until(() => echo.received().length >= 4);
    await sleep(50);
    expect(echo.received().toString()).toBe('0123abcdefghij'.slice(0, echo.received().length));
    expect(echo.received().length).toBeLessThanOrEqual(14);
    expect(proxy.stats().cuts).toBe(1);
  });
});
