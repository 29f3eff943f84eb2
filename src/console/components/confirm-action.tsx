import { useState } from 'preact/hooks';
import type { CommandView } from '../../contracts/console-api.js';
import { ConfirmForm } from '../../ui/confirm-form.js';
import { NoteField } from '../../ui/form-fields.js';
import { useSubmission } from '../../ui/use-submission.js';
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
  const { working, refusal, submit } = useSubmission();

  const settle = (outcome: ActionOutcome): string | null => {
    if (outcome.ok) {
      props.onDone(outcome.command);
      return null;
    }
    const words = text.confirm.refusal[outcome.refusal];
    // The hub's own words say what exactly was refused (a field, a state, a header).
    return outcome.refusal === 'invalid' || outcome.refusal === 'conflict' || outcome.refusal === 'forbidden'
      ? `${words} ${outcome.message}`
      : words;
  };

  return (
    <ConfirmForm
      title={props.title}
      body={props.body}
      working={working}
      refusal={refusal}
      cancelLabel={text.confirm.cancel}
      confirmLabel={working ? text.confirm.working : props.confirmLabel}
      danger={props.danger ?? false}
      onSubmit={submit(() => props.perform(note.trim()), settle)}
      onCancel={props.onCancel}
    >
      {props.note !== 'none' && (
        <NoteField
          label={props.note === 'required' ? text.confirm.note : text.confirm.noteOptional}
          required={props.note === 'required'}
          value={note}
          onInput={setNote}
        />
      )}
    </ConfirmForm>
  );
}
