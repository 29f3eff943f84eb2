import { useState } from 'preact/hooks';
import { Refusal, SecretField } from '../../ui/form-fields.js';
import { useSubmission } from '../../ui/use-submission.js';
import type { ConsoleClient, SignInOutcome } from '../api/console-client.js';
import { text } from '../text.js';

/**
 * The sign-in: the operator token goes once to the hub, in a header, and comes back as a session cookie
 * the page cannot read. The field is cleared whatever the answer: the token is not kept.
 */
export function SignIn(props: { client: ConsoleClient; sessionEnded: boolean; onSignedIn: () => void }) {
  const [token, setToken] = useState('');
  const { working, refusal, submit } = useSubmission();

  const settle = (outcome: SignInOutcome): string | null => {
    setToken('');
    if (!outcome.ok) return text.signIn.refusal[outcome.refusal] ?? outcome.message;
    props.onSignedIn();
    return null;
  };

  return (
    <main class="sign-in">
      <form class="panel" onSubmit={submit(() => props.client.signIn(token), settle)}>
        <h1>{text.signIn.heading}</h1>
        {props.sessionEnded && <p class="notice">{text.signIn.signedOut}</p>}
        <p>{text.signIn.body}</p>
        <SecretField name="token" label={text.signIn.label} value={token} onInput={setToken} />
        <Refusal words={refusal} />
        <button type="submit" class="primary" disabled={working}>
          {working ? text.signIn.working : text.signIn.submit}
        </button>
      </form>
    </main>
  );
}
