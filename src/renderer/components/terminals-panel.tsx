import type { TerminalSeen } from '../../contracts/window-api.js';
import type { Formatter } from '../format.js';
import { markSilentTills } from '../silent-tills.js';
import { text } from '../text.js';

/** Every till seen today with its last sale; one that fell silent while the others sell stands out. */
export function TerminalsPanel(props: {
  terminals: readonly TerminalSeen[];
  now: string;
  format: Formatter;
}) {
  const rows = markSilentTills(props.terminals, props.now);
  return (
    <section class="panel" aria-labelledby="terminals-heading">
      <h2 id="terminals-heading">{text.terminals.heading}</h2>
      {rows.length === 0 ? (
        <p>{text.terminals.none}</p>
      ) : (
        <table class="tills">
          <thead>
            <tr>
              <th scope="col">{text.terminals.till}</th>
              <th scope="col">{text.terminals.lastSale}</th>
              <th scope="col" class="num">
                {text.terminals.salesToday}
              </th>
            </tr>
          </thead>
          <tbody>
            {rows.map((row) => (
              <tr key={row.terminalId} class={row.silentForSeconds === null ? undefined : 'till--silent'}>
                <th scope="row">{row.terminalId}</th>
                <td>
                  {props.format.clock(row.lastSaleAt, props.now)}
                  {row.silentForSeconds !== null && (
                    <span class="badge badge--warning">
                      {text.terminals.silent(props.format.age(row.silentForSeconds))}
                    </span>
                  )}
                </td>
                <td class="num">{props.format.count(row.salesToday)}</td>
              </tr>
            ))}
          </tbody>
        </table>
      )}
    </section>
  );
}
