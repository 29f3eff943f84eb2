/** The words of a page's first read, from the page's own text module. */
export interface LoadWords {
  loading: string;
  cannotLoad: string;
  cannotLoadAction: string;
  retryLoad: string;
}

/**
 * What the status window and the operator's console show before their first picture: that it is being
 * read or, when it could not be, what that means for the stores and a button to try again.
 */
export function LoadScreen(props: { failed: boolean; words: LoadWords; onRetry: () => void }) {
  const { words } = props;
  return (
    <main class="loading">
      {props.failed ? (
        <div class="panel" role="alert">
          <h1>{words.cannotLoad}</h1>
          <p>{words.cannotLoadAction}</p>
          <button type="button" class="primary" onClick={props.onRetry}>
            {words.retryLoad}
          </button>
        </div>
      ) : (
        <p role="status">{words.loading}</p>
      )}
    </main>
  );
}
