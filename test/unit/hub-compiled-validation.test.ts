import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { z } from 'zod';
import { dayCloseSchema } from '../../src/contracts/day-close.js';
import {
  promotionAppliedBodySchema,
  promotionRefusedBodySchema,
} from '../../src/contracts/promotion-sync.js';
import { epochCloseSchema, eventBatchSchema, resendReportSchema } from '../../src/contracts/sync-messages.js';
import { transactionSchema } from '../../src/contracts/transaction.js';
import { compileStrictly, deferredChecks, judgeTransaction } from '../../src/hub/compiled-validation.js';
import { returnOf, sale, voidOf } from '../support/pos-payloads.js';

const valid = [
  sale(),
  sale({
    taxIncluded: false,
    totals: { gross: 729, discount: 120, tax: 62, total: 671 },
    tenders: [{ method: 'card', amount: 671 }],
  }),
  returnOf({ terminalId: 'T1', transactionId: 'sale-1', businessDay: '2026-11-23' }),
  voidOf({ terminalId: 'T1', transactionId: 'sale-1' }),
  {
    ...voidOf({ terminalId: 'T1', transactionId: 'sale-1' }),
    lines: undefined,
    tenders: undefined,
    totals: undefined,
  },
];

/** The contract's own verdict, and the hub's compiled path: they must agree on every body. */
function agree(value: unknown): void {
  const contract = transactionSchema.safeParse(value);
  const hub = judgeTransaction(value);
  expect(hub.success).toBe(contract.success);
  if (hub.success && contract.success) expect(hub.data).toEqual(contract.data);
  if (!hub.success && !contract.success) expect(hub.error.issues[0]).toEqual(contract.error.issues[0]);
}

/** A path into a JSON value and what to put there (undefined removes the key). */
const leafPaths = (value: unknown, prefix: (string | number)[] = []): (string | number)[][] =>
  typeof value !== 'object' || value === null
    ? [prefix]
    : [
        prefix,
        ...Object.entries(value).flatMap(([k, v]) =>
          leafPaths(v, [...prefix, Array.isArray(value) ? Number(k) : k]),
        ),
      ];

function setAt(value: unknown, path: readonly (string | number)[], replacement: unknown): unknown {
  if (path.length === 0) return replacement;
  const copy = (Array.isArray(value) ? [...value] : { ...(value as object) }) as Record<
    string | number,
    unknown
  >;
  const [head, ...rest] = path;
  if (rest.length === 0 && replacement === undefined) delete copy[head!];
  else copy[head!] = setAt(copy[head!], rest, replacement);
  return copy;
}

const odd = fc.oneof(
  fc.constant(undefined),
  fc.constant(null),
  fc.integer({ min: -3, max: 1_000_000 }),
  fc.double({ noNaN: true }),
  fc.constantFrom(
    '',
    'EUR',
    'XXX',
    'eur',
    '2026-02-30',
    '2026-11-23',
    '2026-11-23T10:00:00+01:00',
    'a'.repeat(300),
  ),
  fc.boolean(),
  fc.constant([]),
  fc.constant({}),
);

describe('compiled validation of POS transactions', () => {
  it('compiles with zod (strictly), the transaction structure and every other message and body schema', () => {
    expect(() => compileStrictly()).not.toThrow();
    for (const schema of [
      eventBatchSchema,
      epochCloseSchema,
      resendReportSchema,
      dayCloseSchema,
      promotionAppliedBodySchema,
      promotionRefusedBodySchema,
    ])
      expect(() => z.compile(schema, { strict: true })).not.toThrow();
    // What it runs after the structure: the contract's arithmetic, once per type.
    expect(['sale', 'return', 'void'].map(deferredChecks)).toEqual([1, 1, 1]);
  });

  it('accepts and refuses exactly what the contract schema does, with its first reason', () => {
    for (const body of valid) agree(body);
    fc.assert(
      fc.property(fc.constantFrom(...valid), fc.nat(), odd, (body, pick, replacement) => {
        const paths = leafPaths(body);
        agree(setAt(body, paths[pick % paths.length]!, replacement));
      }),
      { numRuns: 3000 },
    );
  });

  it('refuses what only the arithmetic catches: an amount off by one minor unit anywhere', () => {
    fc.assert(
      fc.property(
        fc.constantFrom(...valid.slice(0, 3)),
        fc.constantFrom('amount', 'total', 'gross', 'tax', 'discount'),
        fc.nat(),
        fc.constantFrom(-1, 1),
        (body, field, pick, delta) => {
          const paths = leafPaths(body).filter((p) => p.at(-1) === field);
          if (paths.length === 0) return;
          const path = paths[pick % paths.length]!;
          const current = path.reduce<unknown>(
            (v, k) => (v as Record<string | number, unknown>)[k],
            body,
          ) as number;
          const changed = setAt(body, path, current + delta);
          agree(changed);
          expect(judgeTransaction(changed).success).toBe(false);
        },
      ),
      { numRuns: 500 },
    );
  });
});
