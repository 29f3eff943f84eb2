export {
  runSimulation,
  type SimulatedTerminal,
  type SimulationOptions,
  type SimulationSummary,
  type SubmissionResult,
} from './run-simulation.js';
export {
  createBasketGenerator,
  includedTax,
  localTime,
  type BasketGenerator,
  type BasketGeneratorOptions,
  type PlannedSubmission,
  type ReturnTransaction,
  type SaleTransaction,
  type TillIdentity,
  type VoidTransaction,
} from './basket.js';
export { CATALOGUE, TAX_CLASSES, type CatalogueItem, type TaxClass } from './catalogue.js';
export { mulberry32, deriveSeed, type Random } from './random.js';
export type { ErrorCount, LatencySummary, Tally } from './tally.js';
