export {
  runSimulation,
  type SimulatedTerminal,
  type SimulationOptions,
  type PricingSummary,
  type SimulationSummary,
  type SubmissionResult,
} from './run-simulation.js';
export { priceBasket, type PriceAnswer, type PriceOptions } from './price.js';
export {
  createBasketGenerator,
  includedTax,
  localTime,
  type BasketGenerator,
  type BasketGeneratorOptions,
  type PlannedBasket,
  type PlannedSubmission,
  type ReturnTransaction,
  type SaleTransaction,
  type TillIdentity,
  type VoidTransaction,
} from './basket.js';
export { CATALOGUE, TAX_CLASSES, type CatalogueItem, type TaxClass } from './catalogue.js';
export { mulberry32, deriveSeed, type Random } from './random.js';
export type { ErrorCount, LatencySummary, Tally } from './tally.js';
export { dairyWeek, pastaThreeForTwo } from './sample-promotions.js';
