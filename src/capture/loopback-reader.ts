import type { FastifyRequest } from 'fastify';

const LOOPBACK_ADDRESSES = new Set(['127.0.0.1', '::1', '::ffff:127.0.0.1']);

/**
 * A Host header naming this PC by loopback. A page on another site cannot read the agent from the
 * manager's browser through DNS rebinding: its requests would carry its own host name.
 */
function isLoopbackHost(host: string | undefined): boolean {
  if (!host) return false;
  const name = host.replace(/:\d+$/, '').toLowerCase();
  return name === 'localhost' || name === '[::1]' || /^127\.\d{1,3}\.\d{1,3}\.\d{1,3}$/.test(name);
}

/**
 * A request from this PC itself, which may read the store's status without a token: a loopback
 * connection that also names a loopback host (a loopback connection alone could be a browser tab on
 * this PC fetching a rebound foreign name).
 */
export function isLocalReader(request: FastifyRequest): boolean {
  return LOOPBACK_ADDRESSES.has(request.socket.remoteAddress ?? '') && isLoopbackHost(request.headers.host);
}
