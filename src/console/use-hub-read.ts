import { useEffect, useState } from 'preact/hooks';
import { SignedOutError } from './api/console-client.js';

export interface HubRead<T> {
  data: T | null;
  error: string | null;
  loading: boolean;
}

/**
 * Reads something from the hub whenever `deps` change (the live stream's message count among them, so a
 * page follows the live picture); the last answer stays shown while the next one loads. A 401 means the
 * session ended: `onSignedOut` takes the operator back to the sign-in.
 */
export function useHubRead<T>(
  load: () => Promise<T>,
  deps: readonly unknown[],
  onSignedOut: () => void,
): HubRead<T> {
  const [state, setState] = useState<HubRead<T>>({ data: null, error: null, loading: true });
  useEffect(() => {
    let live = true;
    setState((s) => ({ ...s, loading: true }));
    load()
      .then((data) => live && setState({ data, error: null, loading: false }))
      .catch((error: unknown) => {
        if (!live) return;
        if (error instanceof SignedOutError) onSignedOut();
        else
          setState((s) => ({
            ...s,
            error: error instanceof Error ? error.message : String(error),
            loading: false,
          }));
      });
    return () => {
      live = false;
    };
  }, deps);
  return state;
}
