import TransportStream from 'winston-transport';
import type { LogNotice, WordParams } from '../contracts/window-api.js';
import { LIVE_UPDATE_FAILED } from '../lib/sse-fanout.js';

/** A warning or error line as winston hands it to a transport: the event name and its fields. */
export interface LogLine {
  level: string;
  message: unknown;
  [field: string]: unknown;
}

interface Words {
  /** Stable across versions: the window words the notice in its own language by this code (text.ts). */
  code: string;
  /** What happened and what it means for the store, in a store manager's words (English). */
  message: string | ((params: WordParams) => string);
  /** The blanks of the words, taken from the log line's fields. */
  params?: (line: LogLine) => WordParams;
  /** Shown as an error even when logged as a warning (or the reverse). */
  level?: LogNotice['level'];
}

/** A field of the log line as a parameter, where it is one. */
const field =
  (name: string, as: string = name) =>
  (line: LogLine): WordParams => {
    const value = line[name];
    return typeof value === 'string' || (typeof value === 'number' && Number.isFinite(value))
      ? { [as]: value }
      : {};
  };

/**
 * The agent's known warning and error events (the log line's message), with a code and plain words. The
 * log keeps the technical line for support; the window shows the words with the line under "Details for
 * IT". An event missing here is still shown, with a generic sentence (`other-error`, `other-warning`).
 */
const KNOWN_EVENTS: Record<string, Words> = {
  'capture unavailable': {
    code: 'capture-unavailable',
    message:
      'The tills could not save sales on this PC (the disk is full, read-only or busy). They keep retrying; nothing already saved is lost.',
  },
  'pruned acknowledged events early to make room': {
    code: 'disk-nearly-full',
    message: (p) =>
      `The disk is nearly full: ${typeof p.removed === 'number' ? `${p.removed} ` : ''}old sales that head office already has were removed from this PC to make room.`,
    params: field('removed'),
  },
  'mqtt error': {
    code: 'head-office-unreachable',
    message:
      'Head office cannot be reached right now. Sales are kept on this PC and will be sent automatically.',
    level: 'warning',
  },
  'mqtt setup failed; reconnecting': {
    code: 'connection-setup-failed',
    message:
      'The connection to head office failed while it was being set up; the agent tries again by itself.',
  },
  'no acknowledgement in time; publishing unacknowledged events again': {
    code: 'confirmation-late',
    message:
      'Head office was slow to confirm some sales, so they are being sent again. Nothing is lost or doubled.',
  },
  'event refused by head office; dead-lettered': {
    code: 'sale-refused',
    message:
      'Head office refused a sale. It is kept on this PC, listed under "Sales head office refused"; the others keep flowing.',
  },
  'event too large to send; withheld, and sent without its body': {
    code: 'sale-too-large',
    message:
      'A sale is too large for the connection to head office. It is kept on this PC and listed under "Sales head office refused"; call support.',
    level: 'error',
  },
  'the broker refused a batch as too large; sending smaller batches': {
    code: 'sending-smaller-groups',
    message: 'The connection to head office only takes small messages; sales are now sent in smaller groups.',
  },
  'broker refused a batch; it will be published again': {
    code: 'sales-refused-by-server',
    message:
      "Head office's server refused some sales; they will be sent again. Call support if this repeats.",
  },
  'epoch close too large for the broker': {
    code: 'message-too-large',
    message: 'A message to head office is too large for its server. Call support.',
  },
  'started a new epoch': {
    code: 'numbering-afresh',
    message:
      "This PC's sales database looks restored or copied, so the agent now numbers sales afresh for head office to tell them apart. Nothing is lost.",
  },
  'publishing failed; will retry': {
    code: 'sending-failed',
    message: 'Sending sales to head office failed for a moment; the agent tries again by itself.',
  },
  'could not record an acknowledgement; it will come again': {
    code: 'confirmation-not-recorded',
    message: "Head office's confirmation could not be written on this PC; it will come again.",
  },
  'could not withhold an event the broker refused as too large; will retry': {
    code: 'large-sale-not-set-aside',
    message: 'A sale too large to send could not be set aside yet; the agent tries again by itself.',
  },
  'the broker refused a message as too large; nothing in flight to blame': {
    code: 'message-refused-as-too-large',
    message: "Head office's server refused a message as too large; the agent sends again from what it holds.",
  },
  'promotion refused': {
    code: 'promotion-refused',
    message: (p) =>
      `${typeof p.promotionId === 'string' ? `Promotion ${p.promotionId}` : 'A promotion'} from head office was refused by this store (see the status for why); the store keeps its current prices.`,
    params: field('promotionId'),
  },
  'promotion versions not applied': {
    code: 'promotions-not-applied',
    message:
      'Some promotion changes from head office could not be applied yet; head office offers them again.',
  },
  'a stored promotion version cannot be read; it is out of force until a newer version arrives': {
    code: 'promotion-unreadable',
    message:
      'A promotion stored on this PC cannot be read, so it is not applied until head office sends a newer one.',
  },
  'could not state the promotion catalogue to head office; it is stated again on the next connection': {
    code: 'promotion-list-not-sent',
    message:
      'The list of promotions this store holds could not be sent to head office; it is sent on the next connection.',
  },
  'promotion message dropped: too many waiting; head office offers it again': {
    code: 'promotion-messages-dropped',
    message: 'Too many promotion messages arrived at once; head office sends the ones left out again.',
  },
  'background checkpoint failed; SQLite will checkpoint by itself': {
    code: 'maintenance-failed',
    message: 'A background maintenance task on the sales database failed; the agent carries on without it.',
  },
  'pruning failed; will retry': {
    code: 'pruning-failed',
    message: 'Removing old sales that head office already has failed; the agent tries again later.',
  },
  'ignoring malformed acknowledgement': {
    code: 'confirmation-unreadable',
    message:
      'A confirmation from head office could not be read and was ignored; the sales it covered will be confirmed again.',
  },
  'status window action with a wrong manager credential': {
    code: 'wrong-manager-credential',
    message: 'Someone entered a wrong manager credential in the status window; nothing was changed.',
  },
  'status window sign-in with a wrong manager credential': {
    code: 'wrong-manager-credential-to-read',
    message:
      'Someone entered a wrong manager credential to open the status window on another computer; it was not opened.',
  },
  'status window action refused: not from the agent’s own page': {
    code: 'foreign-page-refused',
    message:
      'Another web page or program tried to act on this agent through the status window; it was refused.',
  },
  "could not read today's tills from the outbox": {
    code: 'tills-today-unreadable',
    message: 'The list of tills seen today could not be read at start; it fills again as tills sell.',
  },
  [LIVE_UPDATE_FAILED]: {
    code: 'window-update-failed',
    message: 'The status window could not be brought up to date for a moment; it catches up by itself.',
  },
  'request failed': {
    code: 'internal-error',
    message: 'A request to the agent failed with an internal error. Call support if this repeats.',
    level: 'error',
  },
};

/** The words of an event this agent has none for. */
const OTHER: Record<LogNotice['level'], { code: string; message: string }> = {
  error: {
    code: 'other-error',
    message: 'The agent reported an error. Sales already saved are safe; call support if this repeats.',
  },
  warning: { code: 'other-warning', message: 'The agent reported a problem and handled it by itself.' },
};

/** Every code a notice may carry: what a window needs words for. */
export const NOTICE_CODES: readonly string[] = [
  ...new Set([...Object.values(KNOWN_EVENTS), ...Object.values(OTHER)].map((words) => words.code)),
];

/** Fields of a log line that say nothing the details do not already say. */
const OMITTED_FIELDS = new Set(['level', 'message', 'timestamp', 'component', 'stack']);
const MAX_DETAILS = 2000;

export interface DescribedEvent {
  /** Lines of one event repeat as one notice. */
  key: string;
  level: LogNotice['level'];
  code: string;
  params: WordParams;
  message: string;
  details: string;
}

/**
 * The known event a logged message is. winston appends a `message` field of the line to the event's name
 * ("promotion refused promotion P version 3 is signed with…"), so a known name followed by a space counts.
 */
function knownEventOf(logged: string): string | undefined {
  if (Object.hasOwn(KNOWN_EVENTS, logged)) return logged;
  let found: string | undefined;
  for (const event of Object.keys(KNOWN_EVENTS))
    if (logged.startsWith(`${event} `) && event.length > (found?.length ?? 0)) found = event;
  return found;
}

/** One warning or error line in plain words, with its code and the technical line for IT. Pure. */
export function describeLogLine(line: LogLine): DescribedEvent {
  const logged = typeof line.message === 'string' ? line.message : String(line.message);
  const event = knownEventOf(logged) ?? logged;
  const known = Object.hasOwn(KNOWN_EVENTS, event) ? KNOWN_EVENTS[event] : undefined;
  const level: LogNotice['level'] = known?.level ?? (line.level === 'error' ? 'error' : 'warning');
  const fields = Object.fromEntries(Object.entries(line).filter(([name]) => !OMITTED_FIELDS.has(name)));
  const details = `${logged}${Object.keys(fields).length ? ` ${safeJson(fields)}` : ''}`;
  const params = known?.params?.(line) ?? {};
  const words = known ?? OTHER[level];
  return {
    key: event,
    level,
    code: words.code,
    params,
    message: typeof words.message === 'string' ? words.message : words.message(params),
    details: details.length > MAX_DETAILS ? `${details.slice(0, MAX_DETAILS)}…` : details,
  };
}

function safeJson(value: unknown): string {
  try {
    return JSON.stringify(value);
  } catch {
    return String(value);
  }
}

interface Held extends LogNotice {
  key: string;
  repeats: number;
  firstAt: string;
}

/**
 * The recent warnings and errors, newest first, in a bounded list. An event that repeats (a broker that
 * stays away logs an error on every reconnection) stays one notice, moved to the top, saying how often
 * it came since when: the list keeps showing the different things that happened. Pure.
 */
export class RecentNotices {
  private readonly held: Held[] = [];

  constructor(private readonly capacity = 30) {}

  add(event: DescribedEvent, atMs: number): void {
    const at = new Date(atMs).toISOString();
    const index = this.held.findIndex((n) => n.key === event.key);
    const before = index === -1 ? undefined : this.held.splice(index, 1)[0];
    this.held.unshift({
      key: event.key,
      at,
      level: before?.level === 'error' ? 'error' : event.level,
      code: event.code,
      params: event.params,
      message: event.message,
      details: event.details,
      repeats: (before?.repeats ?? 0) + 1,
      firstAt: before?.firstAt ?? at,
    });
    if (this.held.length > this.capacity) this.held.length = this.capacity;
  }

  list(): LogNotice[] {
    return this.held.map((n) => ({
      at: n.at,
      level: n.level,
      code: n.code,
      params: n.params,
      message: n.message,
      details: n.repeats > 1 ? `${n.details}\n(${n.repeats} times since ${n.firstAt})` : n.details,
    }));
  }
}

/**
 * A winston transport feeding the window's notices: only warnings and errors reach it (its level), it
 * does no I/O, and it tells the window something changed.
 */
export class LogNoticesTransport extends TransportStream {
  constructor(
    private readonly notices: RecentNotices,
    private readonly now: () => number,
    private readonly onNotice: () => void,
  ) {
    super({ level: 'warn' });
  }

  override log(info: LogLine, callback: () => void): void {
    try {
      this.notices.add(describeLogLine(info), this.now());
      this.onNotice();
    } finally {
      callback();
    }
  }
}
