import type { PromotionsPanel as Promotions } from '../../contracts/window-api.js';
import type { Formatter } from '../format.js';
import { text } from '../text.js';

/** Promotions in force now and the next one to start; "None" when there are none. */
export function PromotionsPanel(props: { promotions: Promotions; now: string; format: Formatter }) {
  const { inForce, next } = props.promotions;
  const when = (iso: string | null, words: (at: string) => string) =>
    iso === null ? null : ` (${words(props.format.clock(iso, props.now))})`;
  return (
    <section class="panel" aria-labelledby="promotions-heading">
      <h2 id="promotions-heading">{text.promotions.heading}</h2>
      <h3>{text.promotions.inForce}</h3>
      {inForce.length === 0 ? (
        <p>{text.promotions.none}</p>
      ) : (
        <ul>
          {inForce.map((p) => (
            <li key={p.id}>
              {p.name}
              {when(p.endsAt, text.promotions.until)}
            </li>
          ))}
        </ul>
      )}
      <h3>{text.promotions.next}</h3>
      <p>{next === null ? text.promotions.none : [next.name, when(next.startsAt, text.promotions.from)]}</p>
    </section>
  );
}
