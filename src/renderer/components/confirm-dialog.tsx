import { useState } from 'preact/hooks';
import type { DeadLetter } from '../../contracts/status.js';
import type { DeadLetterActionOutcome } from '../../contracts/window-api.js';
import { ModalDialog } from '../../ui/modal-dialog.js';
import { text } from '../text.js';

export type DeadLetterAction = 'retry' | 'discard';

export interface ConfirmDialogProps {
  action: DeadLetterAction;
  letter: DeadLetter;
  needsCredential: boolean;
  /** Performs the action; the dialog stays open on a refusal so the manager can correct what they typed. */
  perform: (note: string, credential: string | undefined) => Promise<DeadLetterActionOutcome>;
  onDone: (outcome: DeadLetterActionOutcome) => void;
  onCancel: () => void;
}

/**
 * The confirmation before a retry or a discard: a native modal dialog (src/ui/modal-dialog.tsx, shared
 * with the operator's console), so focus stays inside it, Escape cancels and the page behind cannot be
 * clicked by mistake. A discard needs a note; over HTTP, both need the manager credential.
 */
export function ConfirmDialog(props: ConfirmDialogProps) {
  const [note, setNote] = useState('');
  const [credential, setCredential] = useState('');
  const [working, setWorking] = useState(false);
  const [refusal, setRefusal] = useState<string | null>(null);
  const discard = props.action === 'discard';

  const submit = async (event: Event) => {
    event.preventDefault();
    setWorking(true);
    setRefusal(null);
    const outcome = await props.perform(note, props.needsCredential ? credential : undefined);
    setWorking(false);
    if (outcome.ok) props.onDone(outcome);
    // A refusal by policy carries the agent's own explanation (e.g. how IT sets a manager credential).
    else
      setRefusal(
        outcome.refusal === 'forbidden'
          ? `${text.outcome.refusal.forbidden} ${outcome.message}`
          : text.outcome.refusal[outcome.refusal],
      );
  };

  const { transactionId, terminalId } = props.letter;
  return (
    <ModalDialog
      class="confirm"
      labelledBy="confirm-title"
      describedBy="confirm-body"
      busy={working}
      onCancel={props.onCancel}
    >
      <form onSubmit={submit}>
        <h2 id="confirm-title">{discard ? text.confirm.discardTitle : text.confirm.retryTitle}</h2>
        <p id="confirm-body">
          {discard
            ? text.confirm.discardBody(transactionId, terminalId)
            : text.confirm.retryBody(transactionId, terminalId)}
        </p>
        {discard && (
          <label class="field">
            <span>{text.confirm.note}</span>
            <textarea
              name="note"
              required
              minLength={3}
              maxLength={500}
              rows={3}
              value={note}
              onInput={(event) => setNote(event.currentTarget.value)}
            />
          </label>
        )}
        {props.needsCredential && (
          <label class="field">
            <span>{text.confirm.credential}</span>
            <input
              name="credential"
              type="password"
              autoComplete="off"
              required
              value={credential}
              onInput={(event) => setCredential(event.currentTarget.value)}
            />
          </label>
        )}
        {refusal && (
          <p class="refusal" role="alert">
            {refusal}
          </p>
        )}
        <div class="buttons">
          <button type="button" onClick={props.onCancel} disabled={working}>
            {text.confirm.cancel}
          </button>
          <button type="submit" class={discard ? 'danger' : 'primary'} disabled={working}>
            {working
              ? text.confirm.working
              : discard
                ? text.confirm.discardConfirm
                : text.confirm.retryConfirm}
          </button>
        </div>
      </form>
    </ModalDialog>
  );
}
