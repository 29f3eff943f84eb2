import type { ComponentChildren } from 'preact';
import { useState } from 'preact/hooks';
import type { ChainDay, ConsoleSnapshot, StoreDay } from '../../contracts/console-api.js';
import type { ConsoleClient } from '../api/console-client.js';
import type { Formatter } from '../format.js';
import { recentDays, routeHref } from '../route.js';
import { text } from '../text.js';
import { useHubRead } from '../use-hub-read.js';
import { DataTable, numeric } from './data-table.js';
import { ReadFailed, ReadPending } from './read-state.js';

interface DaysProps {
  client: ConsoleClient;
  day: string | null;
  storeId: string | null;
  snapshot: ConsoleSnapshot;
  /** Bumped by every live message: the board follows verdicts as they change. */
  version: number;
  format: Formatter;
  onSignedOut: () => void;
}

/**
 * The end-of-day board: the last seven business days chain-wide (stores confirmed, mismatched, not
 * closed), one day store by store, and one store's day till by till, from the hub's day routes.
 */
export function DaysPage(props: DaysProps) {
  const [picked, setPicked] = useState(props.day ?? recentDays(props.snapshot.now, 1)[0]!);
  return (
    <main class="page">
      <h1>{text.daysBoard.heading}</h1>
      <form
        class="inline-form"
        onSubmit={(event) => {
          event.preventDefault();
          location.hash = routeHref({ page: 'days', day: picked, storeId: null });
        }}
      >
        <label class="field">
          <span>{text.daysBoard.pick}</span>
          <input
            type="date"
            required
            value={picked}
            onInput={(event) => setPicked(event.currentTarget.value)}
          />
        </label>
        <button type="submit">{text.daysBoard.show}</button>
      </form>
      {props.day && props.storeId ? (
        <StoreDayView {...props} day={props.day} storeId={props.storeId} />
      ) : props.day ? (
        <ChainDayView {...props} day={props.day} />
      ) : (
        <RecentDays {...props} />
      )}
    </main>
  );
}

function RecentDays({ client, snapshot, version, format, onSignedOut }: DaysProps) {
  const days = recentDays(snapshot.now);
  const board = useHubRead(
    () => Promise.all(days.map((d) => client.chainDay(d))),
    [days[0], version],
    onSignedOut,
  );
  const c = text.daysBoard.columns;
  return (
    <section class="panel">
      <h2>{text.daysBoard.recent}</h2>
      <ReadFailed error={board.error} />
      {board.data && (
        <DataTable
          columns={[c.day, numeric(c.confirmed), numeric(c.mismatch), numeric(c.notClosed)]}
          rows={board.data}
          row={(d) => (
            <tr
              key={d.businessDay}
              data-testid="day-row"
              data-day={d.businessDay}
              class={d.counts.mismatch > 0 ? 'level-warning' : ''}
            >
              <th scope="row">
                <a href={routeHref({ page: 'days', day: d.businessDay, storeId: null })}>{d.businessDay}</a>
              </th>
              <td class="num">{format.count(d.counts.confirmed)}</td>
              <td class="num">{format.count(d.counts.mismatch)}</td>
              <td class="num">{format.count(d.counts.notClosed)}</td>
            </tr>
          )}
        />
      )}
    </section>
  );
}

function storeLink(day: string, storeId: string) {
  return <a href={routeHref({ page: 'days', day, storeId })}>{storeId}</a>;
}

/** One verdict's stores on a day, `items` one per store. */
function DayColumn(props: {
  testId: string;
  tone?: string;
  heading: string;
  count: number;
  items: ComponentChildren[];
}) {
  return (
    <div data-testid={props.testId}>
      <h3 class={props.tone}>
        {props.heading} ({props.count})
      </h3>
      {props.items.length === 0 ? <p class="muted">{text.daysBoard.noStores}</p> : <ul>{props.items}</ul>}
    </div>
  );
}

function ChainDayView({ client, day, version, onSignedOut }: DaysProps & { day: string }) {
  const chain = useHubRead<ChainDay>(() => client.chainDay(day), [day, version], onSignedOut);
  const t = text.daysBoard;
  if (!chain.data) return <ReadPending error={chain.error} />;
  const d = chain.data;
  return (
    <section class="panel" aria-labelledby="chain-day">
      <h2 id="chain-day">{t.dayHeading(day)}</h2>
      <div class="day-columns">
        <DayColumn
          testId="day-mismatch"
          tone="tone-warning"
          heading={t.mismatchStores}
          count={d.counts.mismatch}
          items={d.mismatch.map((m) => (
            <li key={m.storeId}>
              {storeLink(day, m.storeId)}: {t.tillsMismatched(m.mismatched.join(', '))}
              {m.notClosed.length > 0 && `; ${t.tillsNotClosed(m.notClosed.join(', '))}`}
            </li>
          ))}
        />
        <DayColumn
          testId="day-not-closed"
          heading={t.notClosedStores}
          count={d.counts.notClosed}
          items={d.notClosed.map((n) => (
            <li key={n.storeId}>
              {storeLink(day, n.storeId)}
              {n.notClosed.length > 0 && `: ${t.tillsNotClosed(n.notClosed.join(', '))}`}
            </li>
          ))}
        />
        <DayColumn
          testId="day-confirmed"
          tone="tone-ok"
          heading={t.confirmedStores}
          count={d.counts.confirmed}
          items={d.confirmed.map((storeId) => (
            <li key={storeId}>{storeLink(day, storeId)}</li>
          ))}
        />
      </div>
    </section>
  );
}

function StoreDayView({
  client,
  day,
  storeId,
  snapshot,
  version,
  format,
  onSignedOut,
}: DaysProps & { day: string; storeId: string }) {
  const store = useHubRead<StoreDay>(
    () => client.storeDay(storeId, day),
    [day, storeId, version],
    onSignedOut,
  );
  const t = text.daysBoard;
  const c = t.tillColumns;
  if (!store.data) return <ReadPending error={store.error} />;
  const s = store.data;
  const counted = (x: { count: number; amount: number } | null, currency: string) =>
    x ? t.counted(format.count(x.count), format.money(x.amount, currency)) : t.noClose;
  /** A line per type and currency: the till's Z-report beside what head office holds. */
  const totals = (rows: StoreDay['tills'][number]['totals']) =>
    rows.map((row) => (
      <li key={`${row.type}/${row.currency}`}>
        {t.totalsRow(
          row.type,
          row.currency,
          counted(row.till, row.currency),
          counted(row.headOffice, row.currency),
        )}
      </li>
    ));
  return (
    <section class="panel" aria-labelledby="store-day">
      <p>
        <a href={routeHref({ page: 'days', day, storeId: null })}>← {t.dayHeading(day)}</a>
      </p>
      <h2 id="store-day">
        {t.storeDayHeading(storeId, day)}:{' '}
        <span class={`badge badge--${s.state}`}>{t.tillState[s.state]}</span>
      </h2>
      {s.unsent.count !== null && s.unsent.count > 0 && <p class="notice">{t.unsent(s.unsent.count)}</p>}
      <DataTable
        columns={[c.till, c.state, c.closed, c.differences, c.totals]}
        rows={s.tills}
        row={(till) => (
          <tr key={till.terminalId} data-testid="till-day" data-state={till.state}>
            <th scope="row">{till.terminalId}</th>
            <td>
              <span class={`badge badge--${till.state}`}>{t.tillState[till.state]}</span>
            </td>
            <td>{till.closedAt ? format.clock(till.closedAt, snapshot.now) : '—'}</td>
            <td>
              {till.differences && (
                <ul class="plain">
                  {till.differences.missing.length > 0 && (
                    <li>{t.missing(till.differences.missing.join(', '))}</li>
                  )}
                  {till.differences.extra.length > 0 && <li>{t.extra(till.differences.extra.join(', '))}</li>}
                  {totals(till.differences.totals)}
                </ul>
              )}
            </td>
            <td>
              <ul class="plain">{totals(till.totals)}</ul>
            </td>
          </tr>
        )}
      />
    </section>
  );
}
