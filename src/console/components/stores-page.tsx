import type { ConsoleSnapshot } from '../../contracts/console-api.js';
import type { Formatter } from '../format.js';
import { routeHref } from '../route.js';
import { connectionWords, waitingWords } from '../store-words.js';
import { text } from '../text.js';
import { AttentionBadge } from './attention-badge.js';
import { DataTable, numeric } from './data-table.js';

const dash = (n: number, format: Formatter) => (n === 0 ? '—' : format.count(n));

/** Every store, those needing attention first (the hub sorts them), live. */
export function StoresPage({ snapshot, format }: { snapshot: ConsoleSnapshot; format: Formatter }) {
  const { counts, stores, now } = snapshot;
  const c = text.stores.columns;
  return (
    <main class="page">
      <h1>{text.stores.heading}</h1>
      <p class="summary" data-testid="stores-summary">
        {text.stores.summary(
          format.count(counts.stores),
          format.count(counts.online),
          format.count(counts.needAttention),
          counts.needAttention,
        )}
      </p>
      <DataTable
        class="stores"
        empty={text.stores.none}
        columns={[
          c.store,
          c.attention,
          c.state,
          c.waiting,
          numeric(c.lag),
          numeric(c.gaps),
          numeric(c.quarantined),
          numeric(c.deadLetters),
          c.days,
        ]}
        rows={stores}
        row={(store) => (
          <tr
            key={store.storeId}
            data-testid="store-row"
            data-store-id={store.storeId}
            data-online={store.online ? 'yes' : 'no'}
            class={`level-${store.attention.level}`}
          >
            <th scope="row">
              <a href={routeHref({ page: 'store', storeId: store.storeId, tab: 'overview' })}>
                {store.storeId}
              </a>
            </th>
            <td>
              <AttentionBadge store={store} />
            </td>
            <td class={store.online ? 'online' : 'offline'} data-testid="connection">
              <span class="dot" aria-hidden="true" /> {connectionWords(store, now, format)}
            </td>
            <td>{waitingWords(store, now, format)}</td>
            <td class="num">{dash(store.lag, format)}</td>
            <td class="num">{dash(store.gaps, format)}</td>
            <td class="num">{dash(store.quarantined, format)}</td>
            <td class="num">{dash(store.deadLetters, format)}</td>
            <td>{text.days.cell(store.days.mismatched, store.days.notClosed)}</td>
          </tr>
        )}
      />
      <p class="muted">{text.stores.dayWindow(snapshot.dayWindow.from, snapshot.dayWindow.to)}</p>
    </main>
  );
}
