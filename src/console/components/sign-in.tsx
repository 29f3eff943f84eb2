import { useState } from 'preact/hooks';
import type { ConsoleClient } from '../api/console-client.js';
import { text } from '../text.js';

/**
 * The sign-in: the operator token goes once to the hub, in a header, and comes back as a session cookie
 * the page cannot read. The field is cleared whatever the answer: the token is not kept.
 */
export function SignIn(props: { client: ConsoleClient; sessionEnded: boolean; onSignedIn: () => void }) {
  const [token, setToken] = useState('');
  const [working, setWorking] = useState(false);
  const [refusal, setRefusal] = useState<string | null>(null);

  const submit = async (event: Event) => {
    event.preventDefault();
    setWorking(true);
    setRefusal(null);
    const outcome = await props.client.signIn(token);
    setToken('');
    setWorking(false);
    if (outcome.ok) props.onSignedIn();
    else setRefusal(text.signIn.refusal[outcome.refusal] ?? outcome.message);
  };

  return (
    <main class="sign-in">
      <form class="panel" onSubmit={submit}>
        <h1>{text.signIn.heading}</h1>
        {props.sessionEnded && <p class="notice">{text.signIn.signedOut}</p>}
        <p>{text.signIn.body}</p>
        <label class="field">
          <span>{text.signIn.label}</span>
          <input
            name="token"
            type="password"
            autoComplete="off"
            required
            value={token}
            onInput={(event) => setToken(event.currentTarget.value)}
          />
        </label>
        {refusal && (
          <p class="refusal" role="alert">
            {refusal}
          </p>
        )}
        <button type="submit" class="primary" disabled={working}>
          {working ? text.signIn.working : text.signIn.submit}
        </button>
      </form>
    </main>
  );
}
