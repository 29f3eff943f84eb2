import type { WindowLinkState, WindowSnapshot } from '../contracts/window-api.js';
import { problemWords } from './agent-words.js';
import type { Formatter } from './format.js';
import { text } from './text.js';

/** The colour family of the one-line state: what a glance from a metre away must tell. */
export type StateTone = 'ok' | 'busy' | 'offline' | 'warning' | 'critical' | 'unknown';

export interface StateLine {
  tone: StateTone;
  headline: string;
  detail: string | null;
}

/** A connection attempt younger than this is "connecting"; older, the store is offline and says since when. */
const CONNECTING_GRACE_MS = 30_000;

/**
 * The one line the store manager reads first. Pure, in priority order: a window that cannot hear the agent
 * says so before anything it last heard; tills unable to save comes before head office being away.
 */
export function describeState(snapshot: WindowSnapshot, link: WindowLinkState, format: Formatter): StateLine {
  const { status } = snapshot;
  const waiting = status.backlog.count;
  const waitingText = format.count(waiting);

  if (link === 'lost')
    return { tone: 'unknown', headline: text.state.linkLost, detail: text.state.linkLostDetail };

  if (status.capture.state === 'unavailable') {
    const problem = status.problems.find((p) => p.code === 'capture-unavailable');
    const words = problem && problemWords(problem, status.now, format);
    return {
      tone: 'critical',
      headline: text.state.captureDown,
      detail: words ? `${words.message} ${words.action}` : (status.capture.message ?? null),
    };
  }

  const refused = status.problems.find((p) => p.code === 'sync-refused');
  if (refused) return { tone: 'critical', headline: text.state.refused, detail: text.state.refusedDetail };

  const { connection } = status;
  if (connection.state === 'not-configured')
    return { tone: 'warning', headline: text.state.notConfigured, detail: text.state.notConfiguredDetail };

  const lastDelivery = status.lastAck
    ? text.waiting.lastDelivery(format.clock(status.lastAck.at, status.now))
    : text.waiting.neverDelivered;

  const offlineFor = connection.since === null ? null : Date.parse(status.now) - Date.parse(connection.since);
  const offline =
    connection.state === 'offline' ||
    (connection.state === 'connecting' && offlineFor !== null && offlineFor > CONNECTING_GRACE_MS);
  if (offline) {
    return {
      tone: 'offline',
      headline:
        connection.since === null
          ? text.state.offline(waitingText, waiting)
          : text.state.offlineSince(format.clock(connection.since, status.now), waitingText, waiting),
      detail: lastDelivery,
    };
  }
  if (connection.state === 'connecting')
    return { tone: 'busy', headline: text.state.connecting, detail: lastDelivery };

  if (waiting === 0) return { tone: 'ok', headline: text.state.connected, detail: lastDelivery };
  return { tone: 'busy', headline: text.state.connectedSending(waitingText, waiting), detail: lastDelivery };
}
