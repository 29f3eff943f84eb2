import type { ComponentChildren } from 'preact';
import { useEffect, useRef } from 'preact/hooks';

export interface ModalDialogProps {
  /** Ids of the title and the text that describe the dialog, for assistive technology. */
  labelledBy: string;
  describedBy?: string;
  class?: string;
  /** Escape was pressed; ignored while `busy` (an action is under way and must not be abandoned). */
  onCancel: () => void;
  busy?: boolean;
  children: ComponentChildren;
}

/**
 * A native modal dialog, open while mounted: focus stays inside it, Escape cancels and the page behind
 * cannot be clicked by mistake. The confirmations of the status window and the operator's console are
 * built on it.
 */
export function ModalDialog(props: ModalDialogProps) {
  const dialog = useRef<HTMLDialogElement>(null);
  useEffect(() => {
    const element = dialog.current;
    if (element && !element.open) element.showModal();
    return () => element?.close();
  }, []);
  return (
    <dialog
      ref={dialog}
      class={props.class}
      aria-labelledby={props.labelledBy}
      aria-describedby={props.describedBy}
      onCancel={(event) => {
        event.preventDefault();
        if (!props.busy) props.onCancel();
      }}
    >
      {props.children}
    </dialog>
  );
}
