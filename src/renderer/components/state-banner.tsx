import type { StateLine } from '../state-line.js';

/** The one line read from a metre away; announced to screen readers when it changes. */
export function StateBanner({ state }: { state: StateLine }) {
  return (
    <header class={`state state--${state.tone}`} data-tone={state.tone}>
      <span class="state__mark" aria-hidden="true" />
      <div role="status" aria-live="polite">
        <h1 class="state__headline">{state.headline}</h1>
        {state.detail && <p class="state__detail">{state.detail}</p>}
      </div>
    </header>
  );
}
