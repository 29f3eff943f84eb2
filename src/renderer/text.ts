/**
 * Every word the status window shows, in one place so the window can be translated: a translation is a
 * copy of this module with the same shape. Numbers, amounts and times arrive already formatted for the
 * locale (format.ts); a function here only chooses the words around them, and the plural.
 *
 * The agent's notices and problems come with a code and their blanks (agent-words.ts): `notices.words`
 * and `problems.words` word them by code, `p` holding each blank formatted (numbers, and instants on the
 * store's clock) and `n` the numbers themselves for the plural. A code missing here shows the agent's own
 * English words.
 */

const plural = (n: number, one: string, many: string) => (n === 1 ? one : many);

/** A notice's or a problem's blanks: formatted (`p`), and the numbers as numbers (`n`). */
type Blanks = Readonly<Record<string, string>>;
type Numbers = Readonly<Record<string, number>>;
type Worded = (p: Blanks, n: Numbers) => string;
const fixed =
  (words: string): Worded =>
  () =>
    words;

export const text = {
  documentTitle: 'Outpost: store status',
  loading: 'Reading the store status…',
  cannotLoad: 'This window cannot reach the Outpost agent on this PC.',
  cannotLoadAction:
    'Sales at the tills are not affected by this window. If it lasts, restart Outpost or call support.',
  retryLoad: 'Try again',

  readCredential: {
    heading: 'Enter the manager credential to see the store status',
    body: 'This window is open on another computer than the Outpost agent. On the agent’s own PC no credential is needed.',
    label: 'Manager credential',
    submit: 'Show the status',
    ended: 'The session on this computer has ended.',
    /** Why the credential did not open the window; other refusals are said as for an action. */
    refusal: {
      'credential-refused': 'The credential is not right.',
      forbidden:
        'This agent has no manager credential set up, so its status can only be seen on its own PC. Ask IT to set one up.',
    } as Partial<Record<string, string>>,
  },

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
    words: {
      'head-office-unreachable': {
        message: (p) =>
          `Not connected to head office${p.since ? ` since ${p.since}` : ''}. Sales are saved on this PC and will be sent automatically.`,
        action: fixed(
          'Nothing to do; keep trading. If this lasts more than a few hours, check the internet connection or call support.',
        ),
      },
      'sync-stalled': {
        message: (p, n) =>
          `Connected, but the oldest unsent sale is ${p.minutes} ${plural(n.minutes ?? 0, 'minute', 'minutes')} old.`,
        action: fixed('Call support and mention "sync stalled".'),
      },
      'dead-letters': {
        message: (p, n) =>
          `${p.count} ${plural(n.count ?? 0, 'sale was', 'sales were')} refused by head office. They are kept on this PC and the rest keep flowing.`,
        action: fixed('Retry or discard them below once support has looked at them.'),
      },
      'promotions-no-trusted-key': {
        message: fixed(
          'This store trusts no promotion signing key: every promotion head office sends is refused, and tills price without them.',
        ),
        action: fixed(
          "If head office runs promotions, call support: head office's public key goes in promotions.trustedKeys in the agent's config.",
        ),
      },
      'log-file-unwritable': {
        message: (p) =>
          `The log file cannot be written (${
            p.reason === 'disk-full'
              ? 'disk full'
              : p.reason === 'not-writable'
                ? 'the log folder is not writable'
                : 'disk error'
          }); sales are still being saved.`,
        action: (p) =>
          p.reason === 'not-writable'
            ? `Call support: the agent needs write access to ${p.dir}. Logging resumes by itself once it has it.`
            : `Free disk space on this PC (the logs are in ${p.dir}) or call support. Logging resumes by itself.`,
      },
    } as Partial<Record<string, { message: Worded; action: Worded }>>,
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
    words: {
      'capture-unavailable': fixed(
        'The tills could not save sales on this PC (the disk is full, read-only or busy). They keep retrying; nothing already saved is lost.',
      ),
      'disk-nearly-full': (p) =>
        `The disk is nearly full: ${p.removed ? `${p.removed} ` : ''}old sales that head office already has were removed from this PC to make room.`,
      'head-office-unreachable': fixed(
        'Head office cannot be reached right now. Sales are kept on this PC and will be sent automatically.',
      ),
      'connection-setup-failed': fixed(
        'The connection to head office failed while it was being set up; the agent tries again by itself.',
      ),
      'confirmation-late': fixed(
        'Head office was slow to confirm some sales, so they are being sent again. Nothing is lost or doubled.',
      ),
      'sale-refused': fixed(
        'Head office refused a sale. It is kept on this PC, listed under "Sales head office refused"; the others keep flowing.',
      ),
      'sale-too-large': fixed(
        'A sale is too large for the connection to head office. It is kept on this PC and listed under "Sales head office refused"; call support.',
      ),
      'sending-smaller-groups': fixed(
        'The connection to head office only takes small messages; sales are now sent in smaller groups.',
      ),
      'sales-refused-by-server': fixed(
        "Head office's server refused some sales; they will be sent again. Call support if this repeats.",
      ),
      'message-too-large': fixed('A message to head office is too large for its server. Call support.'),
      'numbering-afresh': fixed(
        "This PC's sales database looks restored or copied, so the agent now numbers sales afresh for head office to tell them apart. Nothing is lost.",
      ),
      'sending-failed': fixed(
        'Sending sales to head office failed for a moment; the agent tries again by itself.',
      ),
      'confirmation-not-recorded': fixed(
        "Head office's confirmation could not be written on this PC; it will come again.",
      ),
      'large-sale-not-set-aside': fixed(
        'A sale too large to send could not be set aside yet; the agent tries again by itself.',
      ),
      'message-refused-as-too-large': fixed(
        "Head office's server refused a message as too large; the agent sends again from what it holds.",
      ),
      'promotion-refused': (p) =>
        `${p.promotionId ? `Promotion ${p.promotionId}` : 'A promotion'} from head office was refused by this store (see the status for why); the store keeps its current prices.`,
      'promotions-not-applied': fixed(
        'Some promotion changes from head office could not be applied yet; head office offers them again.',
      ),
      'promotion-unreadable': fixed(
        'A promotion stored on this PC cannot be read, so it is not applied until head office sends a newer one.',
      ),
      'promotion-list-not-sent': fixed(
        'The list of promotions this store holds could not be sent to head office; it is sent on the next connection.',
      ),
      'promotion-messages-dropped': fixed(
        'Too many promotion messages arrived at once; head office sends the ones left out again.',
      ),
      'maintenance-failed': fixed(
        'A background maintenance task on the sales database failed; the agent carries on without it.',
      ),
      'pruning-failed': fixed(
        'Removing old sales that head office already has failed; the agent tries again later.',
      ),
      'confirmation-unreadable': fixed(
        'A confirmation from head office could not be read and was ignored; the sales it covered will be confirmed again.',
      ),
      'wrong-manager-credential': fixed(
        'Someone entered a wrong manager credential in the status window; nothing was changed.',
      ),
      'wrong-manager-credential-to-read': fixed(
        'Someone entered a wrong manager credential to open the status window on another computer; it was not opened.',
      ),
      'foreign-page-refused': fixed(
        'Another web page or program tried to act on this agent through the status window; it was refused.',
      ),
      'tills-today-unreadable': fixed(
        'The list of tills seen today could not be read at start; it fills again as tills sell.',
      ),
      'window-update-failed': fixed(
        'The status window could not be brought up to date for a moment; it catches up by itself.',
      ),
      'internal-error': fixed(
        'A request to the agent failed with an internal error. Call support if this repeats.',
      ),
      'other-error': fixed(
        'The agent reported an error. Sales already saved are safe; call support if this repeats.',
      ),
      'other-warning': fixed('The agent reported a problem and handled it by itself.'),
    } as Partial<Record<string, Worded>>,
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
