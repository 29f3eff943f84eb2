import { useState } from 'preact/hooks';

export interface Submission {
  /** An attempt is under way: the form's buttons are disabled. */
  working: boolean;
  /** Why the last attempt was refused, in words; null before any, and while the next one runs. */
  refusal: string | null;
  /**
   * The form's submit handler: runs `attempt`, then `settle` with its outcome, which acts on a success
   * and returns null, or returns the refusal to show (the form stays, so the user can correct it).
   */
  submit<O>(
    attempt: () => Promise<O>,
    settle: (outcome: O) => string | null,
  ): (event: Event) => Promise<void>;
}

/** One attempt at a time for a form that asks for something that may be refused. */
export function useSubmission(): Submission {
  const [working, setWorking] = useState(false);
  const [refusal, setRefusal] = useState<string | null>(null);
  return {
    working,
    refusal,
    submit: (attempt, settle) => async (event) => {
      event.preventDefault();
      setWorking(true);
      setRefusal(null);
      const outcome = await attempt();
      setWorking(false);
      const refused = settle(outcome);
      if (refused !== null) setRefusal(refused);
    },
  };
}
