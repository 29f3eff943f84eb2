import { useEffect, useMemo, useState } from 'preact/hooks';
import type { WindowApi, WindowLinkState, WindowMessage, WindowSnapshot } from '../contracts/window-api.js';
import { AboutLine } from './components/about-line.js';
import { ActivityChart } from './components/activity-chart.js';
import { DeadLettersPanel } from './components/dead-letters-panel.js';
import { NoticesPanel } from './components/notices-panel.js';
import { ProblemsPanel } from './components/problems-panel.js';
import { PromotionsPanel } from './components/promotions-panel.js';
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
  const [attempt, setAttempt] = useState(0);
  const format = useMemo(() => createFormatter(locale), [locale]);

  useEffect(() => {
    let live = true;
    const receive = (message: WindowMessage) => {
      if (!live) return;
      if (message.type === 'snapshot') setLoadFailed(false);
      setSnapshot((current) => applyWindowMessage(current, message));
    };
    const unsubscribe = api.subscribe(receive, (state) => live && setLink(state));
    api
      .snapshot()
      .then((first) => receive({ type: 'snapshot', snapshot: first }))
      .catch(() => live && setLoadFailed(true));
    return () => {
      live = false;
      unsubscribe();
    };
  }, [api, attempt]);

  if (!snapshot) {
    return (
      <main class="loading">
        {loadFailed ? (
          <div class="panel" role="alert">
            <h1>{text.cannotLoad}</h1>
            <p>{text.cannotLoadAction}</p>
            <button type="button" class="primary" onClick={() => setAttempt((n) => n + 1)}>
              {text.retryLoad}
            </button>
          </div>
        ) : (
          <p role="status">{text.loading}</p>
        )}
      </main>
    );
  }

  const { status } = snapshot;
  return (
    <>
      <StateBanner state={describeState(snapshot, link, format)} />
      <main class="grid">
        <WaitingPanel status={status} format={format} />
        <ProblemsPanel problems={status.problems} />
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
