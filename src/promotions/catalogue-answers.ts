import type { Basket, PricedBasket, PromotionDocument } from '../contracts/promotion.js';
import type { ActivePromotionsAnswer } from '../contracts/promotion-api.js';
import { activePromotionsAnswer } from './active-answer.js';
import { createBasketPricer, type BasketPricer } from './basket-pricer.js';
import {
  createInForceEvaluator,
  type InForceAnswer,
  type InForceEvaluator,
  type StoreContext,
} from './in-force.js';

/** Answers kept, each valid over a stretch of time (now, and a few explicit instants asked about). */
const ACTIVE_CACHE_SIZE = 4;

/** An answer of what is in force, true from `from` until its `changesAt`, and its JSON once asked for. */
interface ActiveEntry {
  from: number;
  answer: InForceAnswer;
  /** The answer's JSON text after its `at`: built once, then only the instant is spliced in. */
  jsonAfterAt?: string;
}

const iso = (ms: number) => new Date(ms).toISOString();

/**
 * What the tills ask, answered from memory: what is in force at an instant (in the store's time zone)
 * and basket prices. Both keep their work for as long as the answer cannot change: until the catalogue
 * is replaced or the next start or end of a promotion. No database read, ever.
 */
export class CatalogueAnswers {
  private readonly evaluator: InForceEvaluator;
  private readonly pricer: BasketPricer;
  /** A new array at each change: the pricer's cache keys on its identity. */
  private documents: readonly PromotionDocument[] = [];
  private cache: ActiveEntry[] = [];

  constructor(store: StoreContext) {
    this.evaluator = createInForceEvaluator(store);
    this.pricer = createBasketPricer(store);
  }

  /** Every document the store holds (any state, the evaluators pick what is in force for it). */
  replace(documents: readonly PromotionDocument[]): void {
    this.documents = documents;
    this.cache = [];
  }

  active(at: number): InForceAnswer {
    return { ...this.entry(at).answer, at };
  }

  /** The answer of `GET /v1/promotions/active`. */
  activeAt(at: number): ActivePromotionsAnswer {
    return activePromotionsAnswer(this.active(at));
  }

  /**
   * The same answer as JSON text. With a thousand promotions in force it runs to hundreds of kilobytes:
   * serialised once per stretch of time it holds for, then only the instant asked about changes.
   */
  activeJson(at: number): string {
    const entry = this.entry(at);
    if (entry.jsonAfterAt === undefined) {
      const { at: _at, ...rest } = activePromotionsAnswer(entry.answer);
      entry.jsonAfterAt = JSON.stringify(rest).slice(1);
    }
    return `{"at":${JSON.stringify(iso(at))},${entry.jsonAfterAt}`;
  }

  price(basket: Basket, at: number): PricedBasket {
    return this.pricer.price(this.documents, basket, at);
  }

  private entry(at: number): ActiveEntry {
    const hit = this.cache.find((c) => at >= c.from && at < (c.answer.changesAt ?? Infinity));
    if (hit) return hit;
    const entry: ActiveEntry = { from: at, answer: this.evaluator.at(this.documents, at) };
    this.cache = [entry, ...this.cache].slice(0, ACTIVE_CACHE_SIZE);
    return entry;
  }
}
