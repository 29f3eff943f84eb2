import type { AgentStatus } from '../../contracts/status.js';
import type { Formatter } from '../format.js';
import { text } from '../text.js';

/** How much is waiting for head office: count, oldest age, money per currency, last delivery. */
export function WaitingPanel({ status, format }: { status: AgentStatus; format: Formatter }) {
  const { backlog, lastAck } = status;
  return (
    <section class="panel" aria-labelledby="waiting-heading">
      <h2 id="waiting-heading">{text.waiting.heading}</h2>
      <p class="big-number" data-testid="backlog-count">
        {backlog.count === 0
          ? text.waiting.nothing
          : text.waiting.count(format.count(backlog.count), backlog.count)}
      </p>
      {backlog.oldestAgeSeconds !== null && backlog.count > 0 && (
        <p>{text.waiting.oldest(format.age(backlog.oldestAgeSeconds))}</p>
      )}
      {backlog.atRisk.length > 0 && (
        <>
          <h3>{text.waiting.amounts}</h3>
          <ul class="amounts" data-testid="amounts-waiting">
            {backlog.atRisk.map((a) => (
              <li key={a.currency}>{format.money(a.amount, a.currency)}</li>
            ))}
          </ul>
        </>
      )}
      <p class="muted">
        {lastAck
          ? text.waiting.lastDelivery(format.clock(lastAck.at, status.now))
          : text.waiting.neverDelivered}
      </p>
    </section>
  );
}
