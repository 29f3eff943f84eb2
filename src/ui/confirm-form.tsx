import type { ComponentChildren } from 'preact';
import { Refusal } from './form-fields.js';
import { ModalDialog } from './modal-dialog.js';

export interface ConfirmFormProps {
  title: string;
  body: string;
  /** The fields asked for (a note, a credential), between the words and the refusal. */
  children?: ComponentChildren;
  working: boolean;
  refusal: string | null;
  cancelLabel: string;
  /** The confirming button's words (the page's "working" words while `working`). */
  confirmLabel: string;
  /** The action cannot be undone: the confirming button says so by its colour. */
  danger: boolean;
  onSubmit: (event: Event) => void;
  onCancel: () => void;
}

/**
 * The confirmation before an action, in the status window and the operator's console alike: what will
 * happen, in words, the fields it needs and, after a refusal, why; it stays open until the action is done
 * or cancelled.
 */
export function ConfirmForm(props: ConfirmFormProps) {
  return (
    <ModalDialog
      class="confirm"
      labelledBy="confirm-title"
      describedBy="confirm-body"
      busy={props.working}
      onCancel={props.onCancel}
    >
      <form onSubmit={props.onSubmit}>
        <h2 id="confirm-title">{props.title}</h2>
        <p id="confirm-body">{props.body}</p>
        {props.children}
        <Refusal words={props.refusal} />
        <div class="buttons">
          <button type="button" onClick={props.onCancel} disabled={props.working}>
            {props.cancelLabel}
          </button>
          <button type="submit" class={props.danger ? 'danger' : 'primary'} disabled={props.working}>
            {props.confirmLabel}
          </button>
        </div>
      </form>
    </ModalDialog>
  );
}
