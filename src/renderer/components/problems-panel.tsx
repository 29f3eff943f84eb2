import type { Problem } from '../../contracts/status.js';
import { problemWords } from '../agent-words.js';
import type { Formatter } from '../format.js';
import { text } from '../text.js';

/** The agent's problems, in the window's words where it has them, each with what to do about it. */
export function ProblemsPanel(props: { problems: readonly Problem[]; now: string; format: Formatter }) {
  return (
    <section class="panel" aria-labelledby="problems-heading">
      <h2 id="problems-heading">{text.problems.heading}</h2>
      {props.problems.length === 0 ? (
        <p>{text.problems.none}</p>
      ) : (
        <ul class="problems">
          {props.problems.map((p) => {
            const words = problemWords(p, props.now, props.format);
            return (
              <li key={p.code} class={`problem problem--${p.severity}`}>
                <p class="problem__message">{words.message}</p>
                <p>
                  <strong>{text.problems.whatToDo}</strong> {words.action}
                </p>
              </li>
            );
          })}
        </ul>
      )}
    </section>
  );
}
