/**
 * Where the console is, kept in the URL's hash so a page can be bookmarked, reloaded and sent to a
 * colleague, and the browser's back button works. Pure: parsing and building only.
 */
export type StoreTab = 'overview' | 'transactions' | 'quarantine';

export type Route =
  | { page: 'stores' }
  | { page: 'store'; storeId: string; tab: StoreTab }
  | { page: 'days'; day: string | null; storeId: string | null }
  | { page: 'promotions'; promotionId: string | null };

const TABS: readonly StoreTab[] = ['overview', 'transactions', 'quarantine'];
const DAY = /^\d{4}-\d{2}-\d{2}$/;

function segments(hash: string): string[] {
  const parts = hash.replace(/^#\/?/, '').split('/').filter(Boolean);
  try {
    return parts.map(decodeURIComponent);
  } catch {
    return [];
  }
}

export function parseRoute(hash: string): Route {
  const [page, a, b] = segments(hash);
  if (page === 'stores' && a) {
    const tab = TABS.find((t) => t === b) ?? 'overview';
    return { page: 'store', storeId: a, tab };
  }
  if (page === 'days')
    return { page: 'days', day: a && DAY.test(a) ? a : null, storeId: a && DAY.test(a) && b ? b : null };
  if (page === 'promotions') return { page: 'promotions', promotionId: a ?? null };
  return { page: 'stores' };
}

const part = encodeURIComponent;

export function routeHref(route: Route): string {
  switch (route.page) {
    case 'stores':
      return '#/';
    case 'store':
      return `#/stores/${part(route.storeId)}${route.tab === 'overview' ? '' : `/${route.tab}`}`;
    case 'days':
      return route.day ? `#/days/${route.day}${route.storeId ? `/${part(route.storeId)}` : ''}` : '#/days';
    case 'promotions':
      return route.promotionId ? `#/promotions/${part(route.promotionId)}` : '#/promotions';
  }
}

/** The business days before `now`'s (UTC) day, newest first: what the board lists by default. */
export function recentDays(now: string, count = 7): string[] {
  const at = Date.parse(now);
  return Array.from({ length: count }, (_, i) =>
    new Date(at - (i + 1) * 86_400_000).toISOString().slice(0, 10),
  );
}
