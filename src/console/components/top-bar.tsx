import type { LinkState } from '../../ui/event-stream.js';
import { routeHref, type Route } from '../route.js';
import { text } from '../text.js';

/** The console's header: where the operator is, whether the figures are live, and sign-out. */
export function TopBar(props: { route: Route; hubId: string; link: LinkState; onSignOut: () => void }) {
  const here = props.route.page === 'store' ? 'stores' : props.route.page;
  const pages = [
    { page: 'stores', href: routeHref({ page: 'stores' }), label: text.nav.stores },
    { page: 'days', href: routeHref({ page: 'days', day: null, storeId: null }), label: text.nav.days },
    {
      page: 'promotions',
      href: routeHref({ page: 'promotions', promotionId: null }),
      label: text.nav.promotions,
    },
  ] as const;
  return (
    <header class="top">
      <span class="top__product">{text.product}</span>
      <nav class="top__nav" aria-label={text.product}>
        {pages.map((p) => (
          <a key={p.page} href={p.href} aria-current={p.page === here ? 'page' : undefined}>
            {p.label}
          </a>
        ))}
      </nav>
      <span class="top__hub">{text.nav.hub(props.hubId)}</span>
      <span class={`top__link top__link--${props.link}`} role="status" data-testid="link-state">
        <span class="dot" aria-hidden="true" /> {props.link === 'open' ? text.link.live : text.link.lost}
      </span>
      <button type="button" class="top__signout" onClick={props.onSignOut}>
        {text.nav.signOut}
      </button>
    </header>
  );
}
