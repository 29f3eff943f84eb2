import type { PromotionRefusalReason } from '../contracts/promotion.js';

export interface RefusalAdvice {
  /** warning: the store may be missing a promotion head office wants in force here; info: nothing to do. */
  severity: 'info' | 'warning';
  /** What the store manager should do, in plain words. */
  advice: string;
}

/**
 * What a refused promotion version means for the store manager. The refusal's own message says what
 * happened for head office IT; this says what to do at the store. Pure, so every reason's words are
 * unit-tested.
 */
export function refusalAdvice(reason: PromotionRefusalReason): RefusalAdvice {
  switch (reason) {
    case 'unknown-key':
      return {
        severity: 'warning',
        advice:
          "Call support: head office signs promotions with a key this store does not trust yet. Its public key must be added to the agent's promotions.trustedKeys, then the agent restarted.",
      };
    case 'bad-signature':
      return {
        severity: 'warning',
        advice:
          'Call support and mention "promotion signature": a promotion did not match its signature and was ignored. The promotions in force are unchanged.',
      };
    case 'unsigned':
      return {
        severity: 'warning',
        advice:
          'Call support and mention "unsigned promotion": something other than head office sent a promotion. It was ignored; the promotions in force are unchanged.',
      };
    case 'malformed':
      return {
        severity: 'warning',
        advice:
          'Update the Outpost agent, or call support: head office may send promotions in a newer form than this agent reads.',
      };
    case 'version-conflict':
      return {
        severity: 'warning',
        advice:
          'Call support: head office sent two different promotions under one version. The one already here stays in force until head office sends a new version.',
      };
    case 'stale-version':
      return {
        severity: 'info',
        advice: 'Nothing to do: an older version arrived late and was ignored; the newer one stays in force.',
      };
    case 'not-targeted':
      return {
        severity: 'info',
        advice: 'Nothing to do: a promotion meant for other stores was ignored.',
      };
    case 'already-held':
      return { severity: 'info', advice: 'Nothing to do: this store already has it.' };
  }
}
