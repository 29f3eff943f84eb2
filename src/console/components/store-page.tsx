import { useState } from 'preact/hooks';
import type {
  CommandView,
  ConsoleSnapshot,
  DeadLetterView,
  EpochView,
  StoreDetail,
} from '../../contracts/console-api.js';
import type { ConsoleClient } from '../api/console-client.js';
import type { Formatter } from '../format.js';
import { routeHref, type StoreTab } from '../route.js';
import { connectionWords, waitingWords } from '../store-words.js';
import { text } from '../text.js';
import { useHubRead } from '../use-hub-read.js';
import { AttentionBadge } from './attention-badge.js';
import { ConfirmAction } from './confirm-action.js';
import { DataTable, numeric } from './data-table.js';
import { ReadFailed, ReadPending } from './read-state.js';

interface PageProps {
  client: ConsoleClient;
  storeId: string;
  tab: StoreTab;
  snapshot: ConsoleSnapshot;
  format: Formatter;
  onSignedOut: () => void;
}

/** One store: what needs attention, its epochs, dead letters and the commands sent to it; its events. */
export function StorePage(props: PageProps) {
  const { storeId, tab } = props;
  const tabs: StoreTab[] = ['overview', 'transactions', 'quarantine'];
  return (
    <main class="page">
      <p>
        <a href={routeHref({ page: 'stores' })}>← {text.store.back}</a>
      </p>
      <h1>{text.store.heading(storeId)}</h1>
      <nav class="tabs" aria-label={text.store.heading(storeId)}>
        {tabs.map((t) => (
          <a
            key={t}
            href={routeHref({ page: 'store', storeId, tab: t })}
            aria-current={t === tab ? 'page' : undefined}
          >
            {text.store.tabs[t]}
          </a>
        ))}
      </nav>
      {tab === 'overview' && <StoreOverview {...props} />}
      {tab === 'transactions' && <StoreTransactions {...props} />}
      {tab === 'quarantine' && <StoreQuarantine {...props} />}
    </main>
  );
}

type Pending =
  | { action: 'retry' | 'discard'; letter: DeadLetterView }
  | { action: 'resync'; epoch: string; fromSeq: number };

function StoreOverview({ client, storeId, snapshot, format, onSignedOut }: PageProps) {
  const row = snapshot.stores.find((s) => s.storeId === storeId);
  const [acted, setActed] = useState(0);
  const [pending, setPending] = useState<Pending | null>(null);
  const [notice, setNotice] = useState<string | null>(null);
  // Read again whenever the store's row in the live picture changes, and after an action.
  const detail = useHubRead(() => client.store(storeId), [storeId, JSON.stringify(row), acted], onSignedOut);

  if (!detail.data) return <ReadPending error={detail.error} />;
  const { store, epochs, deadLetters, commands } = detail.data;
  const done = (command: CommandView) => {
    setPending(null);
    setNotice(`${text.command.describe(command)}: ${text.confirm.accepted}`);
    setActed((n) => n + 1);
  };
  return (
    <>
      <ReadFailed error={detail.error} />
      <section class="panel facts" aria-label={text.store.heading(storeId)}>
        <p class={store.online ? 'online' : 'offline'} data-testid="store-connection">
          <span class="dot" aria-hidden="true" /> {connectionWords(store, snapshot.now, format)}
        </p>
        <p>
          {text.stores.columns.waiting}: {waitingWords(store, snapshot.now, format)}
        </p>
        <p>
          <AttentionBadge store={store} />
        </p>
        {store.agentVersion && <p class="muted">{text.store.version(store.agentVersion)}</p>}
      </section>
      {notice && (
        <p class="notice" role="status">
          {notice}
        </p>
      )}
      <EpochsTable epochs={epochs} format={format} now={snapshot.now} />
      <DeadLetters
        letters={deadLetters}
        format={format}
        now={snapshot.now}
        onAction={(action, letter) => setPending({ action, letter })}
      />
      <Commands commands={commands} format={format} now={snapshot.now} />
      <ResyncForm
        detail={detail.data}
        onAsk={(epoch, fromSeq) => setPending({ action: 'resync', epoch, fromSeq })}
      />
      {pending && (
        <ConfirmDialogFor
          pending={pending}
          storeId={storeId}
          client={client}
          onDone={done}
          onCancel={() => setPending(null)}
        />
      )}
    </>
  );
}

function ConfirmDialogFor(props: {
  pending: Pending;
  storeId: string;
  client: ConsoleClient;
  onDone: (command: CommandView) => void;
  onCancel: () => void;
}) {
  const { pending, storeId, client } = props;
  if (pending.action === 'resync')
    return (
      <ConfirmAction
        title={text.confirm.resyncTitle}
        body={text.confirm.resyncBody(storeId, pending.epoch, String(pending.fromSeq))}
        confirmLabel={text.confirm.resyncConfirm}
        note="required"
        perform={(note) => client.resync(storeId, { epoch: pending.epoch, fromSeq: pending.fromSeq, note })}
        onDone={props.onDone}
        onCancel={props.onCancel}
      />
    );
  const { letter } = pending;
  const transaction = letter.transactionId ?? letter.eventId;
  const till = letter.terminalId ?? '?';
  return pending.action === 'retry' ? (
    <ConfirmAction
      title={text.confirm.retryTitle}
      body={text.confirm.retryBody(transaction, till, storeId)}
      confirmLabel={text.confirm.retryConfirm}
      note="optional"
      perform={(note) => client.retry(storeId, letter.eventId, note || undefined)}
      onDone={props.onDone}
      onCancel={props.onCancel}
    />
  ) : (
    <ConfirmAction
      title={text.confirm.discardTitle}
      body={text.confirm.discardBody(transaction, till, storeId)}
      confirmLabel={text.confirm.discardConfirm}
      note="required"
      danger
      perform={(note) => client.discard(storeId, letter.eventId, note)}
      onDone={props.onDone}
      onCancel={props.onCancel}
    />
  );
}

const ranges = (list: { from: number; to: number }[]) =>
  list.length === 0
    ? text.store.none
    : list.map((r) => (r.from === r.to ? `${r.from}` : `${r.from}–${r.to}`)).join(', ');

function EpochsTable({ epochs, format, now }: { epochs: EpochView[]; format: Formatter; now: string }) {
  const c = text.store.epochColumns;
  return (
    <section class="panel">
      <h2>{text.store.epochs}</h2>
      <DataTable
        columns={[c.epoch, numeric(c.seqs), numeric(c.contiguous), c.gaps, c.lost, c.counts, c.closed]}
        rows={epochs}
        row={(e) => (
          <tr key={e.epoch}>
            <th scope="row">
              <code>{e.epoch}</code>{' '}
              {e.current && <span class="badge badge--info">{text.store.current}</span>}
            </th>
            <td class="num">{format.count(e.lastSeq)}</td>
            <td class="num">{format.count(e.contiguousThrough)}</td>
            <td>{ranges(e.gaps)}</td>
            <td>{ranges(e.unrecoverable)}</td>
            <td>{[e.stored, e.rejected, e.duplicates, e.moved].map((n) => format.count(n)).join(' / ')}</td>
            <td>
              {e.closed
                ? `${format.clock(e.closed.at, now)}, ${text.store.closedTowards(e.closed.nextEpoch, format.count(e.closed.lastSeq))}${e.complete ? `; ${text.store.complete}` : ''}`
                : text.store.notClosed}
            </td>
          </tr>
        )}
      />
    </section>
  );
}

function DeadLetters(props: {
  letters: DeadLetterView[];
  format: Formatter;
  now: string;
  onAction: (action: 'retry' | 'discard', letter: DeadLetterView) => void;
}) {
  const c = text.store.deadLetterColumns;
  return (
    <section class="panel" aria-labelledby="dead-letters">
      <h2 id="dead-letters">{text.store.deadLetters}</h2>
      <DataTable
        columns={[c.event, c.reason, c.received, c.state, c.actions]}
        rows={props.letters}
        empty={text.store.deadLettersNone}
        row={(l) => (
          <tr
            key={`${l.epoch}/${l.seq}`}
            data-testid="dead-letter"
            data-event-id={l.eventId}
            data-state={l.state}
          >
            <th scope="row">
              {l.transactionId ?? l.type ?? l.eventId}
              <div class="muted">
                {l.terminalId ? `${l.terminalId} · ` : ''}seq {l.seq} · <code>{l.eventId}</code>
              </div>
            </th>
            <td>{l.reason ?? ''}</td>
            <td>{props.format.clock(l.receivedAt, props.now)}</td>
            <td>
              {text.store.deadLetterState[l.state]}
              {l.storedAt &&
                ` (${text.store.storedAt(l.storedAt.epoch, props.format.count(l.storedAt.seq))})`}
              {l.command?.state === 'refused' && l.command.answer && (
                <div class="muted">{l.command.answer}</div>
              )}
            </td>
            <td class="actions">
              {l.state === 'open' && (
                <>
                  <button type="button" onClick={() => props.onAction('retry', l)}>
                    {text.store.retry}
                  </button>{' '}
                  <button type="button" class="danger-outline" onClick={() => props.onAction('discard', l)}>
                    {text.store.discard}
                  </button>
                </>
              )}
            </td>
          </tr>
        )}
      />
    </section>
  );
}

function Commands({ commands, format, now }: { commands: CommandView[]; format: Formatter; now: string }) {
  const c = text.store.commandColumns;
  return (
    <section class="panel" aria-labelledby="commands">
      <h2 id="commands">{text.store.commands}</h2>
      <DataTable
        columns={[c.requested, c.command, c.state, c.answer]}
        rows={commands}
        empty={text.store.commandsNone}
        row={(command) => (
          <tr
            key={command.requestId}
            data-testid="command"
            data-state={command.state}
            data-kind={command.kind}
          >
            <td>
              {format.clock(command.requestedAt, now)}
              <div class="muted">{command.requestedBy}</div>
            </td>
            <td>
              {text.command.describe(command)}
              {command.note && <div class="muted">“{command.note}”</div>}
            </td>
            <td>
              <span class={`badge badge--${command.state}`}>{text.command.state[command.state]}</span>
              {command.state === 'pending' && <div class="muted">{text.command.sent(command.sends)}</div>}
            </td>
            <td>{command.answer ?? ''}</td>
          </tr>
        )}
      />
    </section>
  );
}

/** The store's epochs to pick from, the current one said so. */
const epochOptions = (epochs: EpochView[]) =>
  epochs.map((e) => (
    <option key={e.epoch} value={e.epoch}>
      {e.epoch}
      {e.current ? ` (${text.store.current})` : ''}
    </option>
  ));

function ResyncForm({
  detail,
  onAsk,
}: {
  detail: StoreDetail;
  onAsk: (epoch: string, fromSeq: number) => void;
}) {
  const current = detail.epochs.find((e) => e.current) ?? detail.epochs[0];
  const [epoch, setEpoch] = useState(current?.epoch ?? '');
  const [fromSeq, setFromSeq] = useState('1');
  if (!current) return null;
  return (
    <section class="panel" aria-labelledby="resync">
      <h2 id="resync">{text.store.resync}</h2>
      <p class="muted">{text.store.resyncHelp}</p>
      <form
        class="inline-form"
        onSubmit={(event) => {
          event.preventDefault();
          const seq = Number(fromSeq);
          if (Number.isInteger(seq) && seq > 0) onAsk(epoch, seq);
        }}
      >
        <label class="field">
          <span>{text.store.resyncEpoch}</span>
          <select name="epoch" value={epoch} onChange={(event) => setEpoch(event.currentTarget.value)}>
            {epochOptions(detail.epochs)}
          </select>
        </label>
        <label class="field">
          <span>{text.store.resyncFrom}</span>
          <input
            name="fromSeq"
            type="number"
            min={1}
            step={1}
            required
            value={fromSeq}
            onInput={(event) => setFromSeq(event.currentTarget.value)}
          />
        </label>
        <button type="submit">{text.store.resyncSubmit}</button>
      </form>
    </section>
  );
}

function StoreTransactions({ client, storeId, snapshot, format, onSignedOut }: PageProps) {
  const detail = useHubRead(() => client.store(storeId), [storeId], onSignedOut);
  const [epoch, setEpoch] = useState<string | undefined>(undefined);
  const [after, setAfter] = useState(0);
  const page = useHubRead(
    () => client.transactions(storeId, { ...(epoch ? { epoch } : {}), after, limit: 100 }),
    [storeId, epoch, after],
    onSignedOut,
  );
  const c = text.store.transactionColumns;
  return (
    <section class="panel">
      {detail.data && detail.data.epochs.length > 1 && (
        <label class="field inline">
          <span>{text.store.resyncEpoch}</span>
          <select
            value={epoch ?? page.data?.epoch ?? ''}
            onChange={(event) => {
              setEpoch(event.currentTarget.value);
              setAfter(0);
            }}
          >
            {epochOptions(detail.data.epochs)}
          </select>
        </label>
      )}
      <ReadFailed error={page.error} />
      {page.data && (
        <DataTable
          columns={[numeric(c.seq), c.type, c.till, c.transaction, c.day, c.status, c.received]}
          rows={page.data.events}
          empty={text.store.transactionsNone}
          row={(e) => (
            <tr key={e.seq} data-testid="transaction">
              <td class="num">{format.count(e.seq)}</td>
              <td>{e.type ?? ''}</td>
              <td>{e.terminalId ?? ''}</td>
              <td>{e.transactionId ?? ''}</td>
              <td>{e.businessDay ?? ''}</td>
              <td>
                {e.status}
                {e.reason && <div class="muted">{e.reason}</div>}
              </td>
              <td>{format.clock(e.receivedAt, snapshot.now)}</td>
            </tr>
          )}
        />
      )}
      {page.data?.next !== null && page.data?.next !== undefined && (
        <button type="button" onClick={() => setAfter(page.data!.next!)}>
          {text.store.more}
        </button>
      )}
    </section>
  );
}

function StoreQuarantine({ client, storeId, snapshot, format, onSignedOut }: PageProps) {
  const row = snapshot.stores.find((s) => s.storeId === storeId);
  const page = useHubRead(() => client.quarantine(storeId), [storeId, row?.quarantined], onSignedOut);
  const c = text.store.quarantineColumns;
  return (
    <section class="panel">
      <ReadFailed error={page.error} />
      {page.data && (
        <DataTable
          columns={[numeric(c.seq), c.event, c.reason, c.received, c.moved]}
          rows={page.data.events}
          empty={text.store.quarantineNone}
          row={(e) => (
            <tr key={`${e.epoch}/${e.seq}/${e.eventId}`} data-testid="quarantined">
              <td class="num">
                {format.count(e.seq)}
                <div class="muted">
                  <code>{e.epoch}</code>
                </div>
              </td>
              <td>
                <code>{e.eventId}</code>
              </td>
              <td>{e.reason}</td>
              <td>{format.clock(e.receivedAt, snapshot.now)}</td>
              <td>{e.movedTo ? text.store.storedAt(e.movedTo.epoch, format.count(e.movedTo.seq)) : '—'}</td>
            </tr>
          )}
        />
      )}
    </section>
  );
}
