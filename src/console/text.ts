import type { AttentionKind, CommandKind, CommandState, DeadLetterState } from '../contracts/console-api.js';
import type { Refusal } from './api/console-client.js';

/**
 * Every word the operator's console shows, in one place so it can be translated: a translation is a copy
 * of this module with the same shape. Numbers, amounts and times arrive formatted for the locale
 * (src/ui/format.ts); a function here only chooses the words around them, and the plural.
 */

const plural = (n: number, one: string, many: string) => (n === 1 ? one : many);

export const text = {
  documentTitle: 'Outpost: head office',
  product: 'Outpost head office',
  loading: 'Reading the stores…',
  cannotLoad: 'The console cannot reach the hub.',
  cannotLoadAction: 'Stores keep selling and their sales stay safe meanwhile. Try again in a moment.',
  retryLoad: 'Try again',

  nav: {
    stores: 'Stores',
    days: 'Business days',
    promotions: 'Promotions',
    signOut: 'Sign out',
    hub: (hubId: string) => `Hub ${hubId}`,
  },

  link: {
    live: 'Live',
    lost: 'Reconnecting to the hub…',
    lostDetail: 'The figures below may be out of date until the console is back in touch with the hub.',
  },

  signIn: {
    heading: 'Sign in to the operator’s console',
    body: 'Enter the hub’s operator token (hub.json api.token). It is used once to open a session in this browser and is not kept.',
    label: 'Operator token',
    submit: 'Sign in',
    working: 'Signing in…',
    refusal: {
      'token-refused': 'The operator token is not right.',
      forbidden: 'The hub refused the sign-in from this page.',
      unreachable: 'The hub could not be reached; try again in a moment.',
      unavailable: 'The hub cannot sign you in right now; try again in a moment.',
    } as Partial<Record<Refusal, string>>,
    signedOut: 'Your session ended. Sign in again.',
  },

  stores: {
    heading: 'Stores',
    summary: (stores: string, online: string, attention: string, needing: number) =>
      `${stores} stores, ${online} online, ${needing === 0 ? 'none needs' : `${attention} ${plural(needing, 'needs', 'need')}`} attention`,
    none: 'No store has reported to head office yet.',
    columns: {
      store: 'Store',
      state: 'Connection',
      waiting: 'Waiting at the store',
      lag: 'Lag',
      gaps: 'Gaps',
      quarantined: 'Quarantined',
      deadLetters: 'Dead letters',
      days: 'Days not confirmed',
      attention: 'Needs attention',
    },
    ok: 'Nothing to do',
    dayWindow: (from: string, to: string) => `Business days ${from} to ${to}.`,
  },

  state: {
    online: 'Online',
    onlineSince: (since: string) => `Online, last status ${since}`,
    offline: 'Offline',
    offlineSince: (since: string) => `Offline since ${since}`,
    neverReported: 'No status yet',
  },

  waiting: {
    unknown: 'not reported',
    nothing: 'nothing',
    count: (count: string, n: number) => `${count} ${plural(n, 'event', 'events')}`,
    oldest: (age: string) => `oldest ${age} old`,
  },

  days: {
    cell: (mismatched: number, notClosed: number) =>
      [mismatched > 0 ? `${mismatched} mismatched` : '', notClosed > 0 ? `${notClosed} not closed` : '']
        .filter(Boolean)
        .join(', ') || '—',
  },

  attention: {
    level: { alert: 'Alert', warning: 'Warning', notice: 'Notice', ok: 'OK' },
    reason: {
      quarantined: (n: number) => `${n} ${plural(n, 'event', 'events')} quarantined (another writer)`,
      unrecoverable: (n: number) => `${n} ${plural(n, 'seq', 'seqs')} lost for good`,
      gaps: (n: number) => `${n} open ${plural(n, 'gap', 'gaps')} in the seqs`,
      'offline-backlog': (n: number) => `offline with ${n} ${plural(n, 'event', 'events')} waiting`,
      'dead-letters': (n: number) => `${n} ${plural(n, 'dead letter', 'dead letters')}`,
      'day-mismatch': (n: number) => `${n} business ${plural(n, 'day', 'days')} mismatched`,
      'day-not-closed': (n: number) => `${n} business ${plural(n, 'day', 'days')} not closed`,
      lag: (n: number) => `${n} ${plural(n, 'seq', 'seqs')} behind`,
      offline: () => 'offline',
    } satisfies Record<AttentionKind, (n: number) => string>,
  },

  store: {
    back: 'All stores',
    heading: (storeId: string) => `Store ${storeId}`,
    version: (version: string) => `Agent ${version}`,
    tabs: { overview: 'Overview', transactions: 'Transactions', quarantine: 'Quarantine' },
    epochs: 'Epochs',
    epochColumns: {
      epoch: 'Epoch',
      seqs: 'Seqs held',
      contiguous: 'Contiguous through',
      gaps: 'Open gaps',
      lost: 'Lost for good',
      counts: 'Stored / refused / duplicates / moved',
      closed: 'Closed',
    },
    current: 'current',
    closedTowards: (epoch: string, seq: string) => `at seq ${seq}, moved on to ${epoch}`,
    complete: 'every seq accounted for',
    notClosed: '—',
    none: 'none',
    deadLetters: 'Dead letters (sales head office refused)',
    deadLettersNone: 'None.',
    deadLetterColumns: {
      event: 'Sale',
      reason: 'Why head office refused it',
      received: 'Refused',
      state: 'State',
      actions: 'Actions',
    },
    deadLetterState: {
      open: 'Waiting for a decision',
      'retry-pending': 'Retry sent, waiting for the store',
      'discard-pending': 'Discard sent, waiting for the store',
      retried: 'Queued again at the store, on its way',
      stored: 'Stored since',
      discarded: 'Discarded at the store',
    } satisfies Record<DeadLetterState, string>,
    storedAt: (epoch: string, seq: string) => `seq ${seq} of ${epoch}`,
    retry: 'Retry',
    discard: 'Discard',
    commands: 'Commands sent to this store',
    commandsNone: 'None yet.',
    commandColumns: {
      requested: 'Requested',
      command: 'Command',
      state: 'State',
      answer: 'Store’s answer',
    },
    resync: 'Ask the store to send again',
    resyncHelp:
      'The store publishes again every event it still holds from this seq on; head office keeps each exactly once. Use it when head office lost events (a restored database) or a gap does not fill.',
    resyncEpoch: 'Epoch',
    resyncFrom: 'From seq',
    resyncNote: 'Why (kept with the command)',
    resyncSubmit: 'Ask for a resync…',
    transactionsNone: 'No events in this epoch yet.',
    transactionColumns: {
      seq: 'Seq',
      type: 'Type',
      till: 'Till',
      transaction: 'Transaction',
      day: 'Business day',
      status: 'Status',
      received: 'Received',
    },
    more: 'Next page',
    quarantineNone: 'Nothing is quarantined.',
    quarantineColumns: {
      seq: 'Seq',
      event: 'Event',
      reason: 'Reason',
      received: 'Received',
      moved: 'Moved to',
    },
    notFound: (storeId: string) => `Head office does not know store ${storeId}.`,
  },

  command: {
    describe: (c: {
      kind: CommandKind;
      eventId: string | null;
      epoch: string | null;
      fromSeq: number | null;
    }) =>
      c.kind === 'resend'
        ? `Resync epoch ${c.epoch ?? '?'} from seq ${c.fromSeq ?? '?'}`
        : `${c.kind === 'retry-dead-letter' ? 'Retry' : 'Discard'} ${c.eventId ?? ''}`,
    state: {
      pending: 'Pending',
      done: 'Done',
      refused: 'Refused by the store',
      expired: 'Expired unanswered',
    } satisfies Record<CommandState, string>,
    sent: (times: number) =>
      times === 0 ? 'not sent yet' : `sent ${times} ${plural(times, 'time', 'times')}`,
  },

  confirm: {
    retryTitle: 'Send this sale to head office again?',
    retryBody: (transaction: string, till: string, storeId: string) =>
      `Store ${storeId} will send ${transaction} from till ${till} again, and head office will judge it afresh.`,
    discardTitle: 'Discard this sale?',
    discardBody: (transaction: string, till: string, storeId: string) =>
      `Store ${storeId} will stop trying to send ${transaction} from till ${till}. It stays on record at the store with your note.`,
    resyncTitle: 'Ask the store to send again?',
    resyncBody: (storeId: string, epoch: string, fromSeq: string) =>
      `Store ${storeId} will publish every event of epoch ${epoch} it still holds from seq ${fromSeq} on.`,
    note: 'Note (who and why)',
    noteOptional: 'Note (optional)',
    cancel: 'Cancel',
    retryConfirm: 'Retry',
    discardConfirm: 'Discard',
    resyncConfirm: 'Ask for the resync',
    working: 'Sending…',
    refusal: {
      'signed-out': 'Your session ended: sign in again to do this.',
      'token-refused': 'The operator token is not right.',
      forbidden: 'The hub refused this action from this page.',
      'not-found': 'The hub does not know this any more.',
      conflict: 'This was already done or is waiting for the store.',
      invalid: 'The hub did not accept what was entered.',
      unavailable: 'The hub cannot do this right now; try again in a moment.',
      unreachable: 'The hub could not be reached; try again in a moment.',
    } satisfies Record<Refusal, string>,
    accepted: 'Sent to the store. It shows as pending until the store answers.',
  },

  daysBoard: {
    heading: 'Business days',
    pick: 'Business day',
    show: 'Show',
    recent: 'The last seven days',
    columns: {
      day: 'Business day',
      confirmed: 'Confirmed',
      mismatch: 'Mismatched',
      notClosed: 'Not closed',
    },
    dayHeading: (day: string) => `Business day ${day}`,
    confirmedStores: 'Confirmed',
    mismatchStores: 'Mismatched',
    notClosedStores: 'Not closed',
    noStores: 'none',
    tillsMismatched: (tills: string) => `tills ${tills} disagree`,
    tillsNotClosed: (tills: string) => `tills ${tills} not closed`,
    storeDayHeading: (storeId: string, day: string) => `Store ${storeId}, ${day}`,
    tillState: { confirmed: 'Confirmed', mismatch: 'Mismatched', 'not-closed': 'Not closed' },
    tillColumns: {
      till: 'Till',
      state: 'State',
      closed: 'Closed',
      differences: 'Differences',
      totals: 'Z-report beside head office',
    },
    missing: (ids: string) => `missing at head office: ${ids}`,
    extra: (ids: string) => `not on the Z-report: ${ids}`,
    totalsRow: (type: string, currency: string, till: string, headOffice: string) =>
      `${type} ${currency}: till ${till}, head office ${headOffice}`,
    counted: (count: string, amount: string) => `${count} for ${amount}`,
    noClose: 'no close',
    unsent: (n: number) =>
      `The store still reported ${n} unsent ${plural(n, 'event', 'events')} of this day.`,
  },

  promotions: {
    heading: 'Promotions',
    none: 'No promotion has been published through this hub.',
    columns: {
      promotion: 'Promotion',
      version: 'Version',
      state: 'State',
      target: 'For',
      rollout: 'Rollout',
    },
    target: (t: { all?: boolean; regions?: string[]; storeIds?: string[] }) =>
      t.all
        ? 'every store'
        : [
            t.regions?.length
              ? `${plural(t.regions.length, 'region', 'regions')} ${t.regions.join(', ')}`
              : '',
            t.storeIds?.length
              ? `${plural(t.storeIds.length, 'store', 'stores')} ${t.storeIds.join(', ')}`
              : '',
          ]
            .filter(Boolean)
            .join(' and '),
    rollout: (applied: string, targeted: string, refused: number, pending: number) =>
      `${applied} of ${targeted} applied` +
      (refused > 0 ? `, ${refused} refused` : '') +
      (pending > 0 ? `, ${pending} pending` : ''),
    back: 'All promotions',
    version: (n: number) => `Version ${n}`,
    createdBy: (who: string, when: string) => `by ${who}, ${when}`,
    storeColumns: { store: 'Store', status: 'Status', detail: 'Detail' },
    status: { applied: 'Applied', refused: 'Refused', pending: 'Pending' },
    notTargeted: '(not targeted)',
    pendingSince: (online: boolean | null | undefined, since: string | null) =>
      online === null || online === undefined
        ? 'never seen'
        : `${online ? 'online' : 'offline'}${since ? ` since ${since}` : ''}`,
  },

  age: {
    seconds: (n: number) => `${n} ${plural(n, 'second', 'seconds')}`,
    minutes: (n: number) => `${n} ${plural(n, 'minute', 'minutes')}`,
    hoursMinutes: (h: number, m: number) =>
      m === 0
        ? `${h} ${plural(h, 'hour', 'hours')}`
        : `${h} ${plural(h, 'hour', 'hours')} ${m} ${plural(m, 'minute', 'minutes')}`,
    days: (n: number) => `${n} ${plural(n, 'day', 'days')}`,
  },

  readFailed: (message: string) => `Could not read this from the hub: ${message}`,
};
