import { useState } from 'preact/hooks';
import type { CommandView } from '../../contracts/console-api.js';
import { ModalDialog } from '../../ui/modal-dialog.js';
import type { ActionOutcome } from '../api/console-client.js';
import { text } from '../text.js';

export interface ConfirmActionProps {
  title: string;
  body: string;
  confirmLabel: string;
  /** `required`: the action is refused without a note (a discard); `optional`; `none`. */
  note: 'required' | 'optional' | 'none';
  danger?: boolean;
  /** Fields shown above the note (the resync's epoch and seq are chosen before). */
  perform: (note: string) => Promise<ActionOutcome>;
  onDone: (command: CommandView) => void;
  onCancel: () => void;
}

/**
 * The confirmation before an operator's action: what will happen, in words, and a note where one is
 * kept. It stays open on a refusal, saying why, so the operator can correct what they typed.
 */
export function ConfirmAction(props: ConfirmActionProps) {
  const [note, setNote] = useState('');
  const [working, setWorking] = useState(false);
  const [refusal, setRefusal] = useState<string | null>(null);

  const submit = async (event: Event) => {
    event.preventDefault();
    setWorking(true);
    setRefusal(null);
    const outcome = await props.perform(note.trim());
    setWorking(false);
    if (outcome.ok) props.onDone(outcome.command);
    else {
      const words = text.confirm.refusal[outcome.refusal];
      // The hub's own words say what exactly was refused (a field, a state, a header).
      setRefusal(
        outcome.refusal === 'invalid' || outcome.refusal === 'conflict' || outcome.refusal === 'forbidden'
          ? `${words} ${outcome.message}`
          : words,
      );
    }
  };

  return (
    <ModalDialog
      class="confirm"
      labelledBy="confirm-title"
      describedBy="confirm-body"
      busy={working}
      onCancel={props.onCancel}
    >
      <form onSubmit={submit}>
        <h2 id="confirm-title">{props.title}</h2>
        <p id="confirm-body">{props.body}</p>
        {props.note !== 'none' && (
          <label class="field">
            <span>{props.note === 'required' ? text.confirm.note : text.confirm.noteOptional}</span>
            <textarea
              name="note"
              required={props.note === 'required'}
              minLength={props.note === 'required' ? 3 : 0}
              maxLength={500}
              rows={3}
              value={note}
              onInput={(event) => setNote(event.currentTarget.value)}
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
          <button type="submit" class={props.danger ? 'danger' : 'primary'} disabled={working}>
            {working ? text.confirm.working : props.confirmLabel}
          </button>
        </div>
      </form>
    </ModalDialog>
  );
}
