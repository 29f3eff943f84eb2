import { useCallback, useEffect, useMemo, useState } from 'preact/hooks';
import type { ConsoleSnapshot } from '../contracts/console-api.js';
import type { LinkState } from '../ui/event-stream.js';
import { LoadScreen } from '../ui/load-screen.js';
import { SignedOutError, type ConsoleClient } from './api/console-client.js';
import { DaysPage } from './components/days-page.js';
import { PromotionsPage } from './components/promotions-page.js';
import { SignIn } from './components/sign-in.js';
import { StorePage } from './components/store-page.js';
import { StoresPage } from './components/stores-page.js';
import { TopBar } from './components/top-bar.js';
import { createFormatter } from './format.js';
import { parseRoute, type Route } from './route.js';
import { text } from './text.js';

type Phase = 'loading' | 'signed-out' | 'ready' | 'failed';

/**
 * The operator's console: signs in, keeps the live picture of every store (server-sent events, one full
 * snapshot per change), and shows the page the URL's hash names.
 */
export function App({ client, locale }: { client: ConsoleClient; locale: string | undefined }) {
  const [phase, setPhase] = useState<Phase>('loading');
  const [sessionEnded, setSessionEnded] = useState(false);
  const [snapshot, setSnapshot] = useState<ConsoleSnapshot | null>(null);
  const [version, setVersion] = useState(0);
  const [link, setLink] = useState<LinkState>('open');
  const [route, setRoute] = useState<Route>(() => parseRoute(location.hash));
  const [attempt, setAttempt] = useState(0);
  const format = useMemo(() => createFormatter(locale), [locale]);

  useEffect(() => {
    const follow = () => setRoute(parseRoute(location.hash));
    addEventListener('hashchange', follow);
    return () => removeEventListener('hashchange', follow);
  }, []);

  const signedOut = useCallback(() => {
    setSessionEnded(true);
    setPhase('signed-out');
  }, []);

  // The first picture, read once; a 401 means no session yet.
  useEffect(() => {
    let live = true;
    setPhase('loading');
    client
      .snapshot()
      .then((first) => {
        if (!live) return;
        setSnapshot(first);
        setPhase('ready');
      })
      .catch((error: unknown) => {
        if (!live) return;
        setPhase(error instanceof SignedOutError ? 'signed-out' : 'failed');
      });
    return () => {
      live = false;
    };
  }, [client, attempt]);

  // Live while signed in. A lost stream may be an ended session: ask once, so the sign-in shows.
  useEffect(() => {
    if (phase !== 'ready') return;
    return client.subscribe(
      (message) => {
        setSnapshot(message.snapshot);
        setVersion((n) => n + 1);
      },
      (state) => {
        setLink(state);
        if (state === 'lost')
          client.snapshot().catch((error: unknown) => {
            if (error instanceof SignedOutError) signedOut();
          });
      },
    );
  }, [client, phase, signedOut]);

  useEffect(() => {
    document.title = text.documentTitle;
  }, []);

  if (phase === 'signed-out')
    return (
      <SignIn
        client={client}
        sessionEnded={sessionEnded}
        onSignedIn={() => {
          setSessionEnded(false);
          setAttempt((n) => n + 1);
        }}
      />
    );

  if (phase !== 'ready' || !snapshot)
    return <LoadScreen failed={phase === 'failed'} words={text} onRetry={() => setAttempt((n) => n + 1)} />;

  const page = { client, snapshot, format, onSignedOut: signedOut };
  return (
    <>
      <TopBar
        route={route}
        hubId={snapshot.hubId}
        link={link}
        onSignOut={() => {
          void client.signOut().finally(() => {
            setSessionEnded(false);
            setPhase('signed-out');
          });
        }}
      />
      {link === 'lost' && (
        <p class="link-lost" role="alert">
          {text.link.lostDetail}
        </p>
      )}
      {route.page === 'stores' && <StoresPage snapshot={snapshot} format={format} />}
      {route.page === 'store' && <StorePage {...page} storeId={route.storeId} tab={route.tab} />}
      {route.page === 'days' && (
        <DaysPage {...page} day={route.day} storeId={route.storeId} version={version} />
      )}
      {route.page === 'promotions' && (
        <PromotionsPage {...page} promotionId={route.promotionId} version={version} />
      )}
    </>
  );
}
