/**
 * Every word the status window shows, in one place so the window can be translated: a translation is a
 * copy of this module with the same shape. Numbers, amounts and times arrive already formatted for the
 * locale (format.ts); a function here only chooses the words around them, and the plural.
 */

const plural = (n: number, one: string, many: string) => (n === 1 ? one : many);

export const text = {
  documentTitle: 'Outpost: store status',
  loading: 'Reading the store status…',
  cannotLoad: 'This window cannot reach the Outpost agent on this PC.',
  cannotLoadAction:
    'Sales at the tills are not affected by this window. If it lasts, restart Outpost or call support.',
  retryLoad: 'Try again',

  state: {
    connected: 'Connected to head office',
    connectedSending: (count: string, n: number) =>
      `Connected to head office: sending ${count} ${plural(n, 'sale', 'sales')}`,
    offlineSince: (time: string, count: string, n: number) =>
      n === 0
        ? `Offline since ${time}: no sales are waiting`
        : `Offline since ${time}: ${count} ${plural(n, 'sale is', 'sales are')} safe on this PC and will be sent automatically`,
    offline: (count: string, n: number) =>
      n === 0
        ? 'Offline: no sales are waiting'
        : `Offline: ${count} ${plural(n, 'sale is', 'sales are')} safe on this PC and will be sent automatically`,
    connecting: 'Connecting to head office…',
    notConfigured: 'Not set up to send sales to head office',
    notConfiguredDetail: 'Sales are saved on this PC. Ask IT to configure the connection to head office.',
    refused: 'Head office refuses this store',
    refusedDetail: 'Sales are saved on this PC but cannot be sent. Call support.',
    captureDown: 'Tills cannot save sales right now',
    linkLost: 'This window has lost contact with the Outpost agent',
    linkLostDetail: 'It reconnects by itself. Tills keep selling if the agent is running.',
  },

  waiting: {
    heading: 'Waiting to be sent',
    count: (count: string, n: number) => `${count} ${plural(n, 'sale', 'sales')}`,
    nothing: 'Nothing is waiting',
    oldest: (age: string) => `Oldest unsent sale: ${age} old`,
    amounts: 'Amount waiting',
    lastDelivery: (when: string) => `Last delivery to head office: ${when}`,
    neverDelivered: 'Nothing delivered to head office yet',
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

  chart: {
    heading: 'Activity',
    caption: (hours: string) => `Sales waiting and sales per minute, last ${hours}`,
    backlog: 'Waiting',
    sales: 'Sales per minute',
    empty: 'No activity recorded yet.',
    summary: (peak: string, now: string) => `Most waiting: ${peak}. Waiting now: ${now}.`,
  },

  problems: {
    heading: 'What needs attention',
    none: 'Nothing needs your attention.',
    whatToDo: 'What to do:',
  },

  deadLetters: {
    heading: 'Sales head office refused',
    none: 'None.',
    intro:
      'Head office could not accept these. They are kept on this PC; the other sales keep flowing. Retry once support has fixed the cause, or discard with a note.',
    till: 'Till',
    transaction: 'Sale',
    captured: 'Saved',
    reason: 'Reason',
    retry: 'Retry',
    discard: 'Discard',
    discarded: 'Discarded (kept on record)',
    retryLabel: (transactionId: string) => `Retry sale ${transactionId}`,
    discardLabel: (transactionId: string) => `Discard sale ${transactionId}`,
  },

  confirm: {
    retryTitle: 'Send this sale to head office again?',
    retryBody: (transactionId: string, terminalId: string) =>
      `Sale ${transactionId} from till ${terminalId} will be sent again. Do this once support has fixed the cause.`,
    retryConfirm: 'Yes, retry',
    discardTitle: 'Discard this sale?',
    discardBody: (transactionId: string, terminalId: string) =>
      `Sale ${transactionId} from till ${terminalId} will not be sent to head office. It stays on record on this PC with your note.`,
    discardConfirm: 'Yes, discard',
    note: 'Note (why it is discarded)',
    credential: 'Manager credential',
    cancel: 'Cancel',
    working: 'Working…',
  },

  outcome: {
    retried: (transactionId: string) => `Sale ${transactionId} will be sent again.`,
    discarded: (transactionId: string) => `Sale ${transactionId} was discarded and kept on record.`,
    refusal: {
      'credential-required': 'Enter the manager credential to do this.',
      'credential-refused': 'The manager credential is not right.',
      forbidden: 'This window is not allowed to do that.',
      'not-found': 'This sale is no longer in the list.',
      'not-dead': 'This sale is no longer waiting for a decision.',
      invalid: 'Please check what you entered.',
      unavailable: 'The agent cannot do this right now; try again in a moment.',
      unreachable: 'The agent could not be reached; try again in a moment.',
    },
  },

  terminals: {
    heading: 'Tills seen today',
    none: 'No till has sold anything today yet.',
    till: 'Till',
    lastSale: 'Last sale',
    salesToday: 'Sales today',
    silent: (age: string) => `Silent for ${age}`,
  },

  promotions: {
    heading: 'Promotions',
    inForce: 'In force',
    next: 'Next to start',
    none: 'None',
    until: (when: string) => `until ${when}`,
    from: (when: string) => `from ${when}`,
  },

  notices: {
    heading: 'Recent warnings and errors',
    none: 'None.',
    warning: 'Warning',
    error: 'Error',
    details: 'Details for IT',
  },

  about: {
    version: (version: string) => `Outpost ${version}`,
    store: (storeId: string) => `Store ${storeId}`,
    update: {
      'not-applicable': 'Updates: installed by IT',
      disabled: {
        'no-feed': 'Updates: off (no update feed configured; IT installs new versions)',
        'not-packaged': 'Updates: off (development build)',
      },
      idle: (channel: string) => `Updates: ${channel} channel`,
      checking: 'Updates: checking…',
      'up-to-date': (when: string) => `Updates: up to date (checked ${when})`,
      downloading: (version: string, percent: string) => `Updates: downloading ${version} (${percent})`,
      ready: (version: string) =>
        `Update ${version} is ready: it installs when Outpost is closed, or at the quiet hour`,
      readyWaiting: (version: string, why: string) => `Update ${version} is ready; it waits until ${why}`,
      waitingFor: {
        'commit-in-progress': 'the sale being saved is on disk',
        'storage-unwritable': 'this PC can save sales again (disk full or read-only)',
        'sales-unsent': 'head office has every sale',
        'agent-down': 'the Outpost agent is running again',
      },
      error: (message: string) => `Updates: could not update (${message}). Outpost keeps working.`,
    },
  },
} as const;

export type WindowText = typeof text;
