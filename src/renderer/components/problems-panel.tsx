import type { Problem } from '../../contracts/status.js';
import { text } from '../text.js';

/** The agent's own plain-words problems, each with what to do about it. */
export function ProblemsPanel({ problems }: { problems: readonly Problem[] }) {
  return (
    <section class="panel" aria-labelledby="problems-heading">
      <h2 id="problems-heading">{text.problems.heading}</h2>
      {problems.length === 0 ? (
        <p>{text.problems.none}</p>
      ) : (
        <ul class="problems">
          {problems.map((p) => (
            <li key={p.code} class={`problem problem--${p.severity}`}>
              <p class="problem__message">{p.message}</p>
              <p>
                <strong>{text.problems.whatToDo}</strong> {p.action}
              </p>
            </li>
          ))}
        </ul>
      )}
    </section>
  );
}
