import { pricedBasketSchema, type Basket, type PricedBasket } from '../contracts/promotion.js';
import { errorMessage } from '../lib/errors.js';

export interface PriceOptions {
  /** The agent's POST /v1/baskets/price URL. */
  url: string;
  token: string;
  basket: Basket;
  requestTimeoutMs: number;
  /** The run's hard stop: cancels the request. */
  hardStop: AbortSignal;
}

/** The agent's prices, or why there are none (the till then sells at shelf prices). */
export type PriceAnswer = { priced: PricedBasket } | { priced: null; failure: string };

/**
 * Asks the agent to price a basket, as a till does before it totals a sale. One attempt: a till that
 * cannot get prices (an agent without the endpoint, a lost answer) sells without promotions rather than
 * keep its customer waiting, and the run counts it.
 */
export async function priceBasket(options: PriceOptions): Promise<PriceAnswer> {
  let response: Response;
  try {
    response = await fetch(options.url, {
      method: 'POST',
      headers: { authorization: `Bearer ${options.token}`, 'content-type': 'application/json' },
      body: JSON.stringify(options.basket),
      signal: AbortSignal.any([AbortSignal.timeout(options.requestTimeoutMs), options.hardStop]),
    });
  } catch (error) {
    const cause = error instanceof Error && error.cause ? `: ${errorMessage(error.cause)}` : '';
    return { priced: null, failure: `${errorMessage(error)}${cause}` };
  }
  const text = await response.text().catch((error: unknown) => `(answer lost: ${errorMessage(error)})`);
  if (response.status !== 200) return { priced: null, failure: `${response.status} ${text.slice(0, 300)}` };
  try {
    return { priced: pricedBasketSchema.parse(JSON.parse(text)) };
  } catch (error) {
    return { priced: null, failure: `not a priced basket: ${errorMessage(error).slice(0, 300)}` };
  }
}
