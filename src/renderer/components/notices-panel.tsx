import type { LogNotice } from '../../contracts/window-api.js';
import { noticeWords } from '../agent-words.js';
import type { Formatter } from '../format.js';
import { text } from '../text.js';

/** Recent warnings and errors in plain words; the technical details wait behind "Details for IT". */
export function NoticesPanel(props: { notices: readonly LogNotice[]; now: string; format: Formatter }) {
  return (
    <section class="panel" aria-labelledby="notices-heading">
      <h2 id="notices-heading">{text.notices.heading}</h2>
      {props.notices.length === 0 ? (
        <p>{text.notices.none}</p>
      ) : (
        <ul class="notices">
          {props.notices.map((n, i) => (
            <li key={`${n.at}-${i}`} class={`notice notice--${n.level}`}>
              <p>
                <span class={`badge badge--${n.level}`}>
                  {n.level === 'error' ? text.notices.error : text.notices.warning}
                </span>{' '}
                <time dateTime={n.at}>{props.format.clock(n.at, props.now)}</time>{' '}
                {noticeWords(n, props.now, props.format)}
              </p>
              <details>
                <summary>{text.notices.details}</summary>
                <pre>{n.details}</pre>
              </details>
            </li>
          ))}
        </ul>
      )}
    </section>
  );
}
