import { useState } from 'preact/hooks';
import type { DeadLetter } from '../../contracts/status.js';
import type { DeadLetterActionOutcome } from '../../contracts/window-api.js';
import { ConfirmForm } from '../../ui/confirm-form.js';
import { NoteField, SecretField } from '../../ui/form-fields.js';
import { useSubmission } from '../../ui/use-submission.js';
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
 * The confirmation before a retry or a discard: a native modal dialog (src/ui/confirm-form.tsx, shared
 * with the operator's console), so focus stays inside it, Escape cancels and the page behind cannot be
 * clicked by mistake. A discard needs a note; over HTTP, both need the manager credential.
 */
export function ConfirmDialog(props: ConfirmDialogProps) {
  const [note, setNote] = useState('');
  const [credential, setCredential] = useState('');
  const { working, refusal, submit } = useSubmission();
  const discard = props.action === 'discard';

  const settle = (outcome: DeadLetterActionOutcome): string | null => {
    if (outcome.ok) {
      props.onDone(outcome);
      return null;
    }
    // A refusal by policy carries the agent's own explanation (e.g. how IT sets a manager credential).
    return outcome.refusal === 'forbidden'
      ? `${text.outcome.refusal.forbidden} ${outcome.message}`
      : text.outcome.refusal[outcome.refusal];
  };

  const { transactionId, terminalId } = props.letter;
  return (
    <ConfirmForm
      title={discard ? text.confirm.discardTitle : text.confirm.retryTitle}
      body={
        discard
          ? text.confirm.discardBody(transactionId, terminalId)
          : text.confirm.retryBody(transactionId, terminalId)
      }
      working={working}
      refusal={refusal}
      cancelLabel={text.confirm.cancel}
      confirmLabel={
        working ? text.confirm.working : discard ? text.confirm.discardConfirm : text.confirm.retryConfirm
      }
      danger={discard}
      onSubmit={submit(() => props.perform(note, props.needsCredential ? credential : undefined), settle)}
      onCancel={props.onCancel}
    >
      {discard && <NoteField label={text.confirm.note} required value={note} onInput={setNote} />}
      {props.needsCredential && (
        <SecretField
          name="credential"
          label={text.confirm.credential}
          value={credential}
          onInput={setCredential}
        />
      )}
    </ConfirmForm>
  );
}
