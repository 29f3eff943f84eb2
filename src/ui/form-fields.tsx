/**
 * Form parts the status window and the operator's console share, so a field and a refusal look and
 * behave the same in both. The words come from the page's own text module.
 */

/** A credential or a token: never shown, never offered by the browser's autofill. */
export function SecretField(props: {
  name: string;
  label: string;
  value: string;
  onInput: (value: string) => void;
  autoFocus?: boolean;
}) {
  return (
    <label class="field">
      <span>{props.label}</span>
      <input
        name={props.name}
        type="password"
        autoComplete="off"
        required
        autoFocus={props.autoFocus}
        value={props.value}
        onInput={(event) => props.onInput(event.currentTarget.value)}
      />
    </label>
  );
}

/** The note kept with an action: who and why. A required one has at least 3 characters. */
export function NoteField(props: {
  label: string;
  required: boolean;
  value: string;
  onInput: (value: string) => void;
}) {
  return (
    <label class="field">
      <span>{props.label}</span>
      <textarea
        name="note"
        required={props.required}
        minLength={props.required ? 3 : 0}
        maxLength={500}
        rows={3}
        value={props.value}
        onInput={(event) => props.onInput(event.currentTarget.value)}
      />
    </label>
  );
}

/** Why the last attempt was refused, announced at once; nothing before any. */
export function Refusal({ words }: { words: string | null }) {
  return words ? (
    <p class="refusal" role="alert">
      {words}
    </p>
  ) : null;
}
