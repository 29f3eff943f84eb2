import type { ConsoleSnapshot } from '../../contracts/console-api.js';
import type { ConsoleClient } from '../api/console-client.js';
import type { Formatter } from '../format.js';
import { routeHref } from '../route.js';
import { text } from '../text.js';
import { useHubRead } from '../use-hub-read.js';
import { DataTable, numeric } from './data-table.js';
import { ReadPending } from './read-state.js';

interface PromotionsProps {
  client: ConsoleClient;
  promotionId: string | null;
  snapshot: ConsoleSnapshot;
  version: number;
  format: Formatter;
  onSignedOut: () => void;
}

/** Promotion rollout: every promotion with how many of its stores applied it, and one store by store. */
export function PromotionsPage(props: PromotionsProps) {
  return (
    <main class="page">
      <h1>{text.promotions.heading}</h1>
      {props.promotionId ? (
        <PromotionDetail {...props} promotionId={props.promotionId} />
      ) : (
        <PromotionList {...props} />
      )}
    </main>
  );
}

function PromotionList({ client, version, format, onSignedOut }: PromotionsProps) {
  const list = useHubRead(() => client.promotions(), [version], onSignedOut);
  const c = text.promotions.columns;
  if (!list.data) return <ReadPending error={list.error} />;
  if (list.data.promotions.length === 0) return <p>{text.promotions.none}</p>;
  return (
    <section class="panel">
      <DataTable
        columns={[c.promotion, numeric(c.version), c.state, c.target, c.rollout]}
        rows={list.data.promotions}
        row={(p) => (
          <tr key={p.promotionId} data-testid="promotion-row">
            <th scope="row">
              <a href={routeHref({ page: 'promotions', promotionId: p.promotionId })}>{p.name}</a>
              <div class="muted">
                <code>{p.promotionId}</code>
              </div>
            </th>
            <td class="num">{p.latest.version}</td>
            <td>{p.latest.state}</td>
            <td>{text.promotions.target(p.latest.target)}</td>
            <td>
              <RolloutBar summary={p.rollout} format={format} />
            </td>
          </tr>
        )}
      />
    </section>
  );
}

function RolloutBar({
  summary,
  format,
}: {
  summary: { targeted: number; applied: number; refused: number; pending: number };
  format: Formatter;
}) {
  const share = summary.targeted === 0 ? 0 : summary.applied / summary.targeted;
  return (
    <span class="rollout">
      <meter min={0} max={1} value={share} aria-hidden="true" />{' '}
      {text.promotions.rollout(
        format.count(summary.applied),
        format.count(summary.targeted),
        summary.refused,
        summary.pending,
      )}
    </span>
  );
}

function PromotionDetail({
  client,
  promotionId,
  snapshot,
  version,
  format,
  onSignedOut,
}: PromotionsProps & { promotionId: string }) {
  const detail = useHubRead(() => client.promotion(promotionId), [promotionId, version], onSignedOut);
  const t = text.promotions;
  if (!detail.data) return <ReadPending error={detail.error} />;
  return (
    <>
      <p>
        <a href={routeHref({ page: 'promotions', promotionId: null })}>← {t.back}</a>
      </p>
      <h2>
        {detail.data.name} <code>{detail.data.promotionId}</code>
      </h2>
      {detail.data.versions.map((v) => (
        <section class="panel" key={v.version} aria-label={t.version(v.version)}>
          <h3>
            {t.version(v.version)}: {v.state}, {t.target(v.target)}
          </h3>
          <p class="muted">{t.createdBy(v.createdBy, format.clock(v.createdAt, snapshot.now))}</p>
          <p>
            <RolloutBar summary={v.rollout.summary} format={format} />
          </p>
          <DataTable
            columns={[t.storeColumns.store, t.storeColumns.status, t.storeColumns.detail]}
            rows={v.rollout.stores}
            row={(s) => (
              <tr key={s.storeId} data-testid="rollout-store" data-status={s.status}>
                <th scope="row">
                  <a href={routeHref({ page: 'store', storeId: s.storeId, tab: 'overview' })}>{s.storeId}</a>
                  {!s.targeted && <span class="muted"> {t.notTargeted}</span>}
                </th>
                <td>
                  <span class={`badge badge--${s.status}`}>{t.status[s.status]}</span>
                </td>
                <td>
                  {s.status === 'pending'
                    ? t.pendingSince(s.online, s.since ? format.clock(s.since, snapshot.now) : null)
                    : [s.at ? format.clock(s.at, snapshot.now) : '', s.message ?? s.reason ?? '']
                        .filter(Boolean)
                        .join(': ')}
                </td>
              </tr>
            )}
          />
        </section>
      ))}
    </>
  );
}
