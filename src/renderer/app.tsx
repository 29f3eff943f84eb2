import { useEffect, useMemo, useState } from 'preact/hooks';
import {
  WindowReadRefusedError,
  type WindowApi,
  type WindowLinkState,
  type WindowMessage,
  type WindowSnapshot,
} from '../contracts/window-api.js';
import { LoadScreen } from '../ui/load-screen.js';
import { AboutLine } from './components/about-line.js';
import { ActivityChart } from './components/activity-chart.js';
import { DeadLettersPanel } from './components/dead-letters-panel.js';
import { NoticesPanel } from './components/notices-panel.js';
import { ProblemsPanel } from './components/problems-panel.js';
import { PromotionsPanel } from './components/promotions-panel.js';
import { ReadCredentialForm } from './components/read-credential-form.js';
import { StateBanner } from './components/state-banner.js';
import { TerminalsPanel } from './components/terminals-panel.js';
import { WaitingPanel } from './components/waiting-panel.js';
import { createFormatter } from './format.js';
import { describeState } from './state-line.js';
import { text } from './text.js';
import { applyWindowMessage } from './window-state.js';

/** The status window: the one-line state first, then what is waiting, what is wrong and what to do. */
export function App({ api, locale }: { api: WindowApi; locale: string | undefined }) {
  const [snapshot, setSnapshot] = useState<WindowSnapshot | null>(null);
  const [link, setLink] = useState<WindowLinkState>('open');
  const [loadFailed, setLoadFailed] = useState(false);
  /** Null while the agent shows its status; else the agent asks for the credential (and why it last refused). */
  const [signIn, setSignIn] = useState<{ refusal: string | null; ended: boolean } | null>(null);
  const [attempt, setAttempt] = useState(0);
  const timeZone = snapshot?.timeZone;
  const format = useMemo(() => createFormatter(locale, timeZone), [locale, timeZone]);

  useEffect(() => {
    let live = true;
    let shown = false;
    const receive = (message: WindowMessage) => {
      if (!live) return;
      if (message.type === 'snapshot') {
        shown = true;
        setLoadFailed(false);
      }
      setSnapshot((current) => applyWindowMessage(current, message));
    };
    const refused = (error: unknown): boolean => {
      if (!live || !(error instanceof WindowReadRefusedError)) return false;
      setSnapshot(null);
      setSignIn({ refusal: null, ended: shown });
      return true;
    };
    const unsubscribe = api.subscribe(receive, (state) => {
      if (!live) return;
      setLink(state);
      // A lost stream may be a session that ended (the agent answers 401, which an EventSource cannot
      // tell): a read says which, and asks for the credential again rather than show "lost contact".
      if (state === 'lost' && api.openReadSession) api.snapshot().catch(refused);
    });
    api
      .snapshot()
      .then((first) => {
        if (live) setSignIn(null);
        receive({ type: 'snapshot', snapshot: first });
      })
      .catch((error: unknown) => {
        if (!refused(error) && live) setLoadFailed(true);
      });
    return () => {
      live = false;
      unsubscribe();
    };
  }, [api, attempt]);

  if (!snapshot && signIn && api.openReadSession) {
    const open = api.openReadSession.bind(api);
    return (
      <main class="loading">
        <ReadCredentialForm
          refusal={signIn.refusal}
          ended={signIn.ended}
          onSubmit={async (credential) => {
            const outcome = await open(credential);
            if (outcome.ok) setAttempt((n) => n + 1);
            else
              setSignIn({
                ...signIn,
                refusal:
                  text.readCredential.refusal[outcome.refusal] ?? text.outcome.refusal[outcome.refusal],
              });
          }}
        />
      </main>
    );
  }

  if (!snapshot)
    return <LoadScreen failed={loadFailed} words={text} onRetry={() => setAttempt((n) => n + 1)} />;

  const { status } = snapshot;
  return (
    <>
      <StateBanner state={describeState(snapshot, link, format)} />
      <main class="grid">
        <WaitingPanel status={status} format={format} />
        <ProblemsPanel problems={status.problems} now={status.now} format={format} />
        <ActivityChart history={snapshot.history} format={format} />
        <DeadLettersPanel letters={status.deadLetters.items} api={api} now={status.now} format={format} />
        <TerminalsPanel terminals={snapshot.terminals} now={status.now} format={format} />
        <PromotionsPanel promotions={snapshot.promotions} now={status.now} format={format} />
        <NoticesPanel notices={snapshot.notices} now={status.now} format={format} />
      </main>
      <AboutLine app={snapshot.app} storeId={status.storeId} now={status.now} format={format} />
    </>
  );
}
