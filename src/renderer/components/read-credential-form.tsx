import { useState } from 'preact/hooks';
import { Refusal, SecretField } from '../../ui/form-fields.js';
import { text } from '../text.js';

/**
 * Shown instead of the status when the agent refuses to show it without a credential: the window is open
 * on another computer of the store's network (or its session has ended). The credential goes once to the
 * agent, which answers with a session this browser keeps and the page cannot read; the field is cleared
 * whatever the answer.
 */
export function ReadCredentialForm(props: {
  /** Why the last attempt failed, in words; null before any. */
  refusal: string | null;
  /** The window was showing the status and its session ended. */
  ended: boolean;
  onSubmit: (credential: string) => Promise<void>;
}) {
  const [credential, setCredential] = useState('');
  const [working, setWorking] = useState(false);
  return (
    <form
      class="panel"
      aria-labelledby="read-credential-heading"
      onSubmit={(event) => {
        event.preventDefault();
        const presented = credential.trim();
        if (!presented || working) return;
        setWorking(true);
        setCredential('');
        void props.onSubmit(presented).finally(() => setWorking(false));
      }}
    >
      <h1 id="read-credential-heading">{text.readCredential.heading}</h1>
      {props.ended && <p>{text.readCredential.ended}</p>}
      <p>{text.readCredential.body}</p>
      <SecretField
        name="credential"
        label={text.readCredential.label}
        value={credential}
        onInput={setCredential}
        autoFocus
      />
      <Refusal words={props.refusal} />
      <div class="buttons">
        <button type="submit" class="primary" disabled={working}>
          {working ? text.confirm.working : text.readCredential.submit}
        </button>
      </div>
    </form>
  );
}
