import type { ConsoleStore } from '../../contracts/console-api.js';
import { attentionWords } from '../store-words.js';
import { text } from '../text.js';

/** The level in a word and colour, then every reason, most serious first. */
export function AttentionBadge({ store }: { store: ConsoleStore }) {
  const { level } = store.attention;
  if (level === 'ok') return <span class="muted">{text.stores.ok}</span>;
  return (
    <span class="attention">
      <span class={`badge badge--${level}`}>{text.attention.level[level]}</span>{' '}
      <span class="attention__reasons">{attentionWords(store).join('; ')}</span>
    </span>
  );
}
