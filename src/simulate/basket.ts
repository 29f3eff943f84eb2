import { lineAmount } from '../contracts/money.js';
import type { Basket, PricedBasket } from '../contracts/promotion.js';
import type { Transaction, TransactionLine, TransactionTender } from '../contracts/transaction.js';
import { CATALOGUE, type CatalogueItem } from './catalogue.js';
import { chance, code, deriveSeed, intBetween, mulberry32, pick, weighted, type Random } from './random.js';

export type SaleTransaction = Extract<Transaction, { type: 'sale' }>;
export type ReturnTransaction = Extract<Transaction, { type: 'return' }>;
export type VoidTransaction = Extract<Transaction, { type: 'void' }>;

/** One till of the simulated store. Several tills may share a terminal identity (and so its token). */
export interface TillIdentity {
  terminalId: string;
}

export interface BasketGeneratorOptions {
  seed: number;
  /**
   * Prefixes every transactionId, so two runs against the same agent never reuse a key (which would
   * come back 409 instead of 201). A safe identifier of at most 40 characters.
   */
  runId: string;
  tills: readonly TillIdentity[];
  currency: string;
  /** The store's offset from UTC: occurredAt carries it, and it decides the business day. */
  utcOffsetMinutes?: number;
  /** Chance that a till re-sends the exact body of one of its accepted transactions. Default 0.03. */
  retryProbability?: number;
  /** Chance that a new transaction is a return of an earlier sale. Default 0.04. */
  returnProbability?: number;
  /** Chance that a new transaction voids an earlier sale of the same terminal. Default 0.02. */
  voidProbability?: number;
}

export interface PlannedSubmission {
  /** `retry` re-sends an accepted transaction byte for byte: the agent must answer 200 duplicate. */
  kind: 'new' | 'retry';
  /** 0-based index of the till in `tills`. */
  till: number;
  transaction: Transaction;
  /** The exact JSON sent; a retry repeats its original's text. */
  bodyText: string;
}

/** A new sale waiting for the agent's prices: what the till asks, and how it finishes the sale. */
export interface PlannedBasket {
  kind: 'basket';
  till: number;
  /** For `POST /v1/baskets/price`: the lines numbered from 1, priced at the sale's own instant. */
  basket: Basket;
  /**
   * The sale with the discounts the agent answered; null when it could not price the basket (the sale
   * then goes at shelf prices, as a till without promotions would sell). Call it once.
   */
  complete(priced: PricedBasket | null): PlannedSubmission;
}

export interface BasketGenerator {
  /**
   * What till `till` submits at instant `at` (ms since the epoch), with the simulator's own stand-in
   * promotions (catalogue.ts).
   */
  next(till: number, at: number): PlannedSubmission;
  /**
   * The same, except that a new sale comes back as a basket for the agent to price, so the sale carries
   * the promotions the store holds. Returns, voids and retries come back ready, as from `next`.
   */
  nextForPricing(till: number, at: number): PlannedSubmission | PlannedBasket;
  /**
   * Tells the generator the agent stored this submission (201, or 200 duplicate). Only stored sales are
   * returned or voided later, and only stored bodies are retried, so every reference points at
   * something head office will really receive.
   */
  accepted(submission: PlannedSubmission): void;
}

const RUN_ID = /^[A-Za-z0-9][A-Za-z0-9._:-]{0,39}$/;
/** How many stored sales stay eligible for returns and voids, and bodies per terminal for retries. */
const SALES_REMEMBERED = 1000;
const RETRIES_REMEMBERED = 64;
const MAX_LINES = 30;

interface TillState {
  terminalId: string;
  tillNo: number;
  random: Random;
  operatorId: string;
  counter: number;
}

function checkProbability(name: string, value: number): number {
  if (!(value >= 0 && value <= 1)) throw new RangeError(`${name} must be between 0 and 1, got ${value}`);
  return value;
}

/**
 * Generates the traffic of one store's tills as canonical v1 transactions whose arithmetic always
 * adds up. Pure: the same options and the same sequence of calls give the same submissions.
 */
export function createBasketGenerator(options: BasketGeneratorOptions): BasketGenerator {
  if (!RUN_ID.test(options.runId)) {
    throw new RangeError(
      `runId must be 1-40 letters, digits or . _ : - (starting with a letter or digit), got "${options.runId}"`,
    );
  }
  if (options.tills.length === 0) throw new RangeError('at least one till is needed');
  const retryProbability = checkProbability('retryProbability', options.retryProbability ?? 0.03);
  const returnProbability = checkProbability('returnProbability', options.returnProbability ?? 0.04);
  const voidProbability = checkProbability('voidProbability', options.voidProbability ?? 0.02);
  const offset = options.utcOffsetMinutes ?? 0;

  const tills: TillState[] = options.tills.map((till, i) => {
    const random = mulberry32(deriveSeed(options.seed, i));
    return {
      terminalId: till.terminalId,
      tillNo: i + 1,
      random,
      operatorId: `op-${intBetween(random, 100, 999)}`,
      counter: 0,
    };
  });
  const storedSales: SaleTransaction[] = [];
  const retryable = new Map<string, PlannedSubmission[]>();

  const header = (till: TillState, at: number) => {
    till.counter += 1;
    return {
      v: 1 as const,
      terminalId: till.terminalId,
      // The till number keeps ids unique when tills share a terminal identity.
      transactionId: `${options.runId}-T${till.tillNo}-${till.counter}`,
      ...localTime(at, offset),
      currency: options.currency,
      operatorId: till.operatorId,
      taxIncluded: true,
      extensions: { 'outpost.simulated': true, 'outpost.run': options.runId },
    };
  };

  const takeSale = (index: number): SaleTransaction => storedSales.splice(index, 1)[0]!;

  /** A void or a return when the dice say so and there is a stored sale to refer to; else undefined. */
  const planReference = (till: TillState, at: number): Transaction | undefined => {
    const { random } = till;
    if (chance(random, voidProbability)) {
      // A void cancels a recent sale of the same terminal: the cashier's own till, minutes later.
      const candidates = storedSales
        .map((sale, index) => ({ sale, index }))
        .filter(({ sale }) => sale.terminalId === till.terminalId)
        .slice(-3);
      if (candidates.length > 0) {
        const { sale, index } = pick(random, candidates);
        takeSale(index);
        return voidOf(header(till, at), sale);
      }
    }
    if (chance(random, returnProbability) && storedSales.length > 0) {
      // Customers bring goods back to any till, so a return may refer to another terminal's sale.
      const sale = takeSale(intBetween(random, 0, storedSales.length - 1));
      return returnOf(header(till, at), sale, random);
    }
    return undefined;
  };

  const tillAt = (tillIndex: number): TillState => {
    const till = tills[tillIndex];
    if (!till) throw new RangeError(`no till ${tillIndex}: there are ${tills.length}`);
    return till;
  };

  /** A deliberate re-send of an accepted body, when the dice say so. */
  const planRetry = (till: TillState, tillIndex: number): PlannedSubmission | undefined => {
    const earlier = retryable.get(till.terminalId);
    if (earlier && earlier.length > 0 && chance(till.random, retryProbability)) {
      const original = pick(till.random, earlier);
      return { ...original, kind: 'retry', till: tillIndex };
    }
    return undefined;
  };

  const ready = (tillIndex: number, transaction: Transaction): PlannedSubmission => ({
    kind: 'new',
    till: tillIndex,
    transaction,
    bodyText: JSON.stringify(transaction),
  });

  return {
    next(tillIndex, at) {
      const till = tillAt(tillIndex);
      const retry = planRetry(till, tillIndex);
      if (retry) return retry;
      return ready(tillIndex, planReference(till, at) ?? saleOf(header(till, at), till.random));
    },
    nextForPricing(tillIndex, at) {
      const till = tillAt(tillIndex);
      const retry = planRetry(till, tillIndex);
      if (retry) return retry;
      const reference = planReference(till, at);
      if (reference) return ready(tillIndex, reference);
      const draft = draftSale(header(till, at), till.random);
      let completed = false;
      return {
        kind: 'basket',
        till: tillIndex,
        basket: basketOf(draft),
        complete(priced) {
          if (completed) throw new Error('a planned basket is completed once');
          completed = true;
          return ready(tillIndex, pricedSaleOf(draft, priced, till.random));
        },
      };
    },
    accepted(submission) {
      if (submission.kind !== 'new') return;
      const tx = submission.transaction;
      const bodies = retryable.get(tx.terminalId) ?? [];
      bodies.push(submission);
      if (bodies.length > RETRIES_REMEMBERED) bodies.shift();
      retryable.set(tx.terminalId, bodies);
      if (tx.type === 'sale') {
        storedSales.push(tx);
        if (storedSales.length > SALES_REMEMBERED) storedSales.shift();
      }
    },
  };
}

type Header = Omit<SaleTransaction, 'type' | 'lines' | 'tenders' | 'totals'>;

/** occurredAt with the store's own offset (as a till prints it) and the business day it falls in. */
export function localTime(at: number, utcOffsetMinutes: number) {
  const local = new Date(at + utcOffsetMinutes * 60_000).toISOString();
  const sign = utcOffsetMinutes < 0 ? '-' : '+';
  const abs = Math.abs(utcOffsetMinutes);
  const hh = String(Math.floor(abs / 60)).padStart(2, '0');
  const mm = String(abs % 60).padStart(2, '0');
  return { businessDay: local.slice(0, 10), occurredAt: `${local.slice(0, 23)}${sign}${hh}:${mm}` };
}

/**
 * The tax contained in a tax-inclusive amount, net × rate / (1 + rate), rounded half up, in integers:
 * floating-point rates like 0.07 would otherwise drift by a unit on some amounts.
 */
export function includedTax(amount: number, basisPoints: number): number {
  const divisor = 10_000 + basisPoints;
  return Math.floor((2 * amount * basisPoints + divisor) / (2 * divisor));
}

const sum = (values: readonly number[]) => values.reduce((a, b) => a + b, 0);

function withTax(line: Omit<TransactionLine, 'taxes'>, item: Pick<CatalogueItem, 'tax'>): TransactionLine {
  const net = line.amount - sum(line.discounts.map((d) => d.amount));
  const { code: taxCode, rate, basisPoints } = item.tax;
  return { ...line, taxes: [{ code: taxCode, rate, amount: includedTax(net, basisPoints) }] };
}

/** Baskets are mostly small (a few items on the way home) with a long tail up to a weekly shop. */
function basketSize(random: Random): number {
  return Math.min(MAX_LINES, 1 + Math.floor(MAX_LINES * random.next() ** 3));
}

/** Pieces, or kilograms with up to 3 decimals for weighed goods; multi-buy items come in threes more often. */
function quantityOf(random: Random, item: CatalogueItem): number {
  return item.weighed
    ? intBetween(random, item.unitPrice > 1000 ? 80 : 150, item.unitPrice > 1000 ? 900 : 2500) / 1000
    : weighted(random, [
        [1, 70],
        [2, 14],
        [3, item.promotion && 'kind' in item.promotion ? 30 : 7],
        [4, 3],
        [6, 4],
        [12, 1],
      ]);
}

function saleLine(random: Random, lineNo: number, item: CatalogueItem): TransactionLine {
  const quantity = quantityOf(random, item);
  const amount = lineAmount(quantity, item.unitPrice);
  const discounts: TransactionLine['discounts'] = [];
  const promotion = item.promotion;
  if (promotion && 'kind' in promotion && !item.weighed && quantity >= 3) {
    // Three for the price of two: every third piece is free.
    discounts.push({ promotionId: promotion.promotionId, amount: Math.floor(quantity / 3) * item.unitPrice });
  } else if (promotion && 'percentOff' in promotion) {
    discounts.push({
      promotionId: promotion.promotionId,
      amount: Math.round((amount * promotion.percentOff) / 100),
    });
  }
  if (item.weighed && chance(random, 0.05)) {
    // A best-before markdown at the counter: no promotion behind it, only a reason.
    const left = amount - sum(discounts.map((d) => d.amount));
    discounts.push({ reason: 'best-before markdown', amount: Math.floor((left * 30) / 100) });
  }
  return withTax(
    {
      lineNo,
      sku: item.sku,
      description: item.description,
      quantity,
      unitPrice: item.unitPrice,
      amount,
      discounts,
    },
    item,
  );
}

function totalsOf(lines: readonly TransactionLine[]) {
  const gross = sum(lines.map((l) => l.amount));
  const discount = sum(lines.flatMap((l) => l.discounts.map((d) => d.amount)));
  const tax = sum(lines.flatMap((l) => l.taxes.map((t) => t.amount)));
  // Shelf prices include tax, so the tax is inside the total rather than added to it.
  return { gross, discount, tax, total: gross - discount };
}

const popularity = CATALOGUE.map((item) => [item, item.popularity] as const);

function saleOf(header: Header, random: Random): SaleTransaction {
  const size = basketSize(random);
  const lines = Array.from({ length: size }, (_, i) => saleLine(random, i + 1, weighted(random, popularity)));
  const totals = totalsOf(lines);
  return { ...header, type: 'sale', lines, tenders: saleTenders(random, totals.total), totals };
}

/** A sale to be priced by the agent: its header, and per line the item, quantity and a markdown or not. */
interface SaleDraft {
  header: Header;
  lines: { item: CatalogueItem; quantity: number; markdown: boolean }[];
}

function draftSale(header: Header, random: Random): SaleDraft {
  const size = basketSize(random);
  const lines = Array.from({ length: size }, () => {
    const item = weighted(random, popularity);
    const quantity = quantityOf(random, item);
    return { item, quantity, markdown: item.weighed === true && chance(random, 0.05) };
  });
  return { header, lines };
}

function basketOf(draft: SaleDraft): Basket {
  return {
    currency: draft.header.currency,
    at: draft.header.occurredAt,
    lines: draft.lines.map(({ item, quantity }, i) => ({
      lineNo: i + 1,
      sku: item.sku,
      category: item.category,
      description: item.description,
      quantity,
      unitPrice: item.unitPrice,
    })),
  };
}

/** The agent's discounts per line, if its answer prices exactly the lines asked about; else none at all. */
function discountsOf(draft: SaleDraft, priced: PricedBasket | null): TransactionLine['discounts'][] {
  const none = draft.lines.map(() => []);
  if (priced === null || priced.lines.length !== draft.lines.length) return none;
  const byLineNo = new Map(priced.lines.map((line) => [line.lineNo, line]));
  const matched = draft.lines.map(({ item, quantity }, i) => {
    const line = byLineNo.get(i + 1);
    return line && line.sku === item.sku && line.quantity === quantity && line.unitPrice === item.unitPrice
      ? line.discounts
      : undefined;
  });
  return matched.every((d) => d !== undefined) ? matched : none;
}

/** The sale as the till rings it up once priced: the agent's promotions, then any markdown, then taxes. */
function pricedSaleOf(draft: SaleDraft, priced: PricedBasket | null, random: Random): SaleTransaction {
  const discounts = discountsOf(draft, priced);
  const lines = draft.lines.map(({ item, quantity, markdown }, i) => {
    const amount = lineAmount(quantity, item.unitPrice);
    const own = discounts[i]!.map((d) => ({ ...d }));
    if (markdown && own.length < 20) {
      // A best-before markdown at the counter, on what is left to pay: no promotion behind it.
      const left = amount - sum(own.map((d) => d.amount));
      const cut = Math.floor((left * 30) / 100);
      if (cut > 0) own.push({ reason: 'best-before markdown', amount: cut });
    }
    return withTax(
      {
        lineNo: i + 1,
        sku: item.sku,
        description: item.description,
        quantity,
        unitPrice: item.unitPrice,
        amount,
        discounts: own,
      },
      item,
    );
  });
  const totals = totalsOf(lines);
  return { ...draft.header, type: 'sale', lines, tenders: saleTenders(random, totals.total), totals };
}

/** How the customer paid. Cash is recorded net of change, so every split adds up to the total. */
function saleTenders(random: Random, total: number): TransactionTender[] {
  if (total === 0) return [];
  const card = (amount: number): TransactionTender => ({
    method: 'card',
    amount,
    reference: `AUTH-${code(random, 6)}`,
  });
  const method = weighted(random, [
    ['card', 50],
    ['cash', 28],
    ['card+cash', 8],
    ['voucher', 5],
    ['mobile', 7],
    ['gift-card', 2],
  ] as const);
  switch (method) {
    case 'card':
      return [card(total)];
    case 'cash':
      return [{ method: 'cash', amount: total }];
    case 'card+cash': {
      if (total < 2) return [card(total)];
      const cash = intBetween(random, 1, total - 1);
      return [{ method: 'cash', amount: cash }, card(total - cash)];
    }
    case 'voucher': {
      const value = pick(random, [500, 1000, 2000]);
      const voucher: TransactionTender = {
        method: 'voucher',
        amount: Math.min(value, total),
        reference: `VCH-${code(random, 10)}`,
      };
      if (value >= total) return [voucher];
      return [voucher, chance(random, 0.5) ? card(total - value) : { method: 'cash', amount: total - value }];
    }
    case 'mobile':
      return [{ method: 'mobile', amount: total, reference: `MOB-${code(random, 12)}` }];
    case 'gift-card':
      return [{ method: 'gift-card', amount: total, reference: `GC-${code(random, 16)}` }];
  }
}

const itemBySku = new Map(CATALOGUE.map((item) => [item.sku, item]));

/** Brings back some of the original's lines, part or all of each, with the discounts it had, pro rata. */
function returnOf(header: Header, original: SaleTransaction, random: Random): ReturnTransaction {
  const wanted = intBetween(random, 1, Math.min(3, original.lines.length));
  const chosen = [...original.lines];
  for (let i = chosen.length - 1; i > 0; i -= 1) {
    const j = intBetween(random, 0, i);
    [chosen[i], chosen[j]] = [chosen[j]!, chosen[i]!];
  }
  const lines = chosen.slice(0, wanted).map((line, i) => {
    // Weighed goods come back whole; pieces may come back one at a time.
    const quantity = Number.isInteger(line.quantity) ? intBetween(random, 1, line.quantity) : line.quantity;
    const amount = lineAmount(quantity, line.unitPrice);
    // Rounded down, so the refunded discount never exceeds what the customer got.
    const discounts = line.discounts
      .map((d) => ({ ...d, amount: Math.floor((d.amount * amount) / line.amount) }))
      .filter((d) => d.amount > 0);
    const item = itemBySku.get(line.sku);
    const tax = item?.tax ?? { code: line.taxes[0]?.code ?? 'VAT0', rate: 0, basisPoints: 0 };
    return withTax(
      {
        lineNo: i + 1,
        sku: line.sku,
        description: line.description,
        quantity,
        unitPrice: line.unitPrice,
        amount,
        discounts,
      },
      { tax },
    );
  });
  const totals = totalsOf(lines);
  return {
    ...header,
    type: 'return',
    original: {
      terminalId: original.terminalId,
      transactionId: original.transactionId,
      businessDay: original.businessDay,
    },
    lines,
    tenders: refundTenders(random, original, totals.total),
    totals,
  };
}

/** Refunds go back the way the customer paid where a till can do that, else as store credit. */
function refundTenders(random: Random, original: SaleTransaction, total: number): TransactionTender[] {
  if (total === 0) return [];
  const paidWith = original.tenders[0]?.method;
  if (paidWith === 'card') return [{ method: 'card', amount: total, reference: `RFND-${code(random, 6)}` }];
  if (paidWith === 'cash') return [{ method: 'cash', amount: total }];
  return [{ method: 'store-credit', amount: total, reference: `SC-${code(random, 10)}` }];
}

/** A void restates nothing: it cancels the referenced sale in full, with no lines, tenders or totals. */
function voidOf(header: Header, voided: SaleTransaction): VoidTransaction {
  return {
    ...header,
    type: 'void',
    voids: { terminalId: voided.terminalId, transactionId: voided.transactionId },
    lines: [],
    tenders: [],
    totals: { gross: 0, discount: 0, tax: 0, total: 0 },
  };
}
