import { text } from '../text.js';

/** A read from the hub with no answer yet: why it failed, or that it is under way. */
export function ReadPending({ error }: { error: string | null }) {
  return error ? <p role="alert">{text.readFailed(error)}</p> : <p role="status">{text.loading}</p>;
}

/** The last read failed; the answer before it, if any, stays shown. */
export function ReadFailed({ error }: { error: string | null }) {
  return error ? <p role="alert">{text.readFailed(error)}</p> : null;
}
