/**
 * A live stream of server-sent events, shared by the status window and the operator's console. The
 * browser's EventSource reconnects by itself after a dropped connection; it gives up for good when the
 * server answers with an error (a restart answering 503, a session that expired: 401), so this opens a
 * new one after a growing pause (1 s, doubling, at most 30 s). Each message's `data` is JSON, checked by
 * `parse`; anything else is ignored (the next full picture puts the page right).
 */

/** The part of the browser's EventSource used here; tests pass a fake. */
export interface EventSourceLike {
  readonly readyState?: number;
  onopen: ((event: Event) => void) | null;
  onmessage: ((event: MessageEvent<string>) => void) | null;
  onerror: ((event: Event) => void) | null;
  close(): void;
}

export type LinkState = 'open' | 'lost';

export interface EventStreamOptions<M> {
  url: string;
  /** The message, or undefined for data that is not one. */
  parse: (data: unknown) => M | undefined;
  onMessage: (message: M) => void;
  onLink?: (state: LinkState) => void;
  createEventSource?: (url: string) => EventSourceLike;
  /** Where a reconnection waits (tests pass a fake). */
  setTimer?: (run: () => void, ms: number) => unknown;
  clearTimer?: (timer: unknown) => void;
}

/** EventSource.CLOSED: the browser will not reconnect this one. */
const CLOSED = 2;
const FIRST_PAUSE_MS = 1_000;
const MAX_PAUSE_MS = 30_000;

/** Opens the stream; the returned function closes it for good. */
export function openEventStream<M>(options: EventStreamOptions<M>): () => void {
  const create =
    options.createEventSource ?? ((url: string) => new EventSource(url) as unknown as EventSourceLike);
  const setTimer = options.setTimer ?? ((run, ms) => setTimeout(run, ms));
  const clearTimer = options.clearTimer ?? ((timer) => clearTimeout(timer as ReturnType<typeof setTimeout>));
  let source: EventSourceLike | undefined;
  let timer: unknown;
  let pause = FIRST_PAUSE_MS;
  let closed = false;

  const connect = () => {
    timer = undefined;
    if (closed) return;
    const current = create(options.url);
    source = current;
    current.onopen = () => {
      pause = FIRST_PAUSE_MS;
      options.onLink?.('open');
    };
    current.onerror = () => {
      options.onLink?.('lost');
      if (current.readyState !== CLOSED || closed || timer !== undefined) return;
      current.close();
      timer = setTimer(connect, pause);
      pause = Math.min(pause * 2, MAX_PAUSE_MS);
    };
    current.onmessage = (event) => {
      let data: unknown;
      try {
        data = JSON.parse(event.data);
      } catch {
        return;
      }
      const message = options.parse(data);
      if (message !== undefined) options.onMessage(message);
    };
  };

  connect();
  return () => {
    closed = true;
    if (timer !== undefined) clearTimer(timer);
    source?.close();
  };
}
