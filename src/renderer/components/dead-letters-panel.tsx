import { useState } from 'preact/hooks';
import type { DeadLetter } from '../../contracts/status.js';
import type { DeadLetterActionOutcome, WindowApi } from '../../contracts/window-api.js';
import type { Formatter } from '../format.js';
import { text } from '../text.js';
import { ConfirmDialog, type DeadLetterAction } from './confirm-dialog.js';

interface Pending {
  action: DeadLetterAction;
  letter: DeadLetter;
}

/** Sales head office refused, with Retry and Discard behind a confirmation. */
export function DeadLettersPanel(props: {
  letters: readonly DeadLetter[];
  api: WindowApi;
  now: string;
  format: Formatter;
}) {
  const [pending, setPending] = useState<Pending | null>(null);
  const [outcome, setOutcome] = useState<string | null>(null);

  const perform = (p: Pending) => (note: string, credential: string | undefined) =>
    p.action === 'retry'
      ? props.api.retryDeadLetter(p.letter.eventId, credential)
      : props.api.discardDeadLetter(p.letter.eventId, note, credential);

  const done = (p: Pending) => (result: DeadLetterActionOutcome) => {
    setPending(null);
    if (result.ok)
      setOutcome(
        result.result.state === 'retried'
          ? text.outcome.retried(p.letter.transactionId)
          : text.outcome.discarded(p.letter.transactionId),
      );
  };

  return (
    <section class="panel panel--wide" aria-labelledby="dead-heading">
      <h2 id="dead-heading">{text.deadLetters.heading}</h2>
      <p class="outcome" role="status">
        {outcome}
      </p>
      {props.letters.length === 0 ? (
        <p>{text.deadLetters.none}</p>
      ) : (
        <>
          <p>{text.deadLetters.intro}</p>
          <table class="dead-letters">
            <thead>
              <tr>
                <th scope="col">{text.deadLetters.transaction}</th>
                <th scope="col">{text.deadLetters.till}</th>
                <th scope="col">{text.deadLetters.captured}</th>
                <th scope="col">{text.deadLetters.reason}</th>
                <th scope="col">
                  <span class="visually-hidden">{text.deadLetters.retry}</span>
                </th>
              </tr>
            </thead>
            <tbody>
              {props.letters.map((letter) => (
                <tr key={letter.eventId} data-event-id={letter.eventId}>
                  <th scope="row">{letter.transactionId}</th>
                  <td>{letter.terminalId}</td>
                  <td>{props.format.clock(letter.capturedAt, props.now)}</td>
                  <td>{letter.reason}</td>
                  <td class="actions">
                    {letter.state === 'discarded' ? (
                      <span class="badge">{text.deadLetters.discarded}</span>
                    ) : (
                      <>
                        <button
                          type="button"
                          aria-label={text.deadLetters.retryLabel(letter.transactionId)}
                          onClick={() => setPending({ action: 'retry', letter })}
                        >
                          {text.deadLetters.retry}
                        </button>
                        <button
                          type="button"
                          class="danger"
                          aria-label={text.deadLetters.discardLabel(letter.transactionId)}
                          onClick={() => setPending({ action: 'discard', letter })}
                        >
                          {text.deadLetters.discard}
                        </button>
                      </>
                    )}
                  </td>
                </tr>
              ))}
            </tbody>
          </table>
        </>
      )}
      {pending && (
        <ConfirmDialog
          action={pending.action}
          letter={pending.letter}
          needsCredential={props.api.actionsNeedCredential}
          perform={perform(pending)}
          onDone={done(pending)}
          onCancel={() => setPending(null)}
        />
      )}
    </section>
  );
}
