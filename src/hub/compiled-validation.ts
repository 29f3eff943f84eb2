import { z } from 'zod';
import type * as zc from 'zod/v4/core';
import { transactionSchema, type Transaction } from '../contracts/transaction.js';

/**
 * The contract's transaction schema, compiled ahead of time with zod's own compiler (`z.compile`): the
 * same rules, about four times cheaper per body, which is most of what the hub spends on an event.
 *
 * `z.compile` cannot take a refinement that waits for the other fields to be valid (a check with a
 * `when` condition), which is how the contract attaches its arithmetic to each transaction type. So each
 * type's structure (every other check included) is compiled without those checks, and they run after it,
 * on its output, exactly as zod runs them: only once nothing else failed. A body that fails anywhere, or
 * that this path cannot judge, is judged again by `transactionSchema` itself, which gives the verdict and
 * the reason; the compiled path only ever says "valid" for a body the contract's schema accepts.
 */

type Checked = { _zod: { def: { checks?: zc.$ZodCheck[] } } };

const checksOf = (schema: Checked) => schema._zod.def.checks ?? [];
const waitsForValidFields = (check: zc.$ZodCheck) => check._zod.def.when !== undefined;

interface CompiledType {
  /** The refinements deferred until the structure is valid (the arithmetic), run on its output. */
  deferred: zc.$ZodCheck[];
}

function compileTransaction(strict: boolean) {
  const byType = new Map<string, CompiledType>();
  const structures = transactionSchema.options.map((option) => {
    // Each option is one transaction type's object schema; only its checks are read and changed.
    const object = option as unknown as z.ZodObject<{ type: z.ZodLiteral<string> }>;
    byType.set(object.shape.type.value, { deferred: checksOf(object).filter(waitsForValidFields) });
    return object.clone({
      ...object.def,
      checks: checksOf(object).filter((check) => !waitsForValidFields(check)),
    });
  });
  // Not strict here: a schema zod could not compile would still be judged right, only slower. A test
  // compiles it strictly, so that a contract change that slows every body fails there instead.
  const structure = z.compile(
    z.discriminatedUnion('type', structures as [(typeof structures)[number], ...typeof structures]),
    { strict },
  );
  return { structure, byType };
}

const compiled = compileTransaction(false);

/** A deferred check passes when it adds no issue, run as zod runs it: with the parsed value, only if `when` allows. */
function passes(check: zc.$ZodCheck, value: unknown): boolean {
  const payload: zc.ParsePayload = { value, issues: [] };
  if (check._zod.def.when && !check._zod.def.when(payload)) return true;
  const result = check._zod.check(payload as zc.ParsePayload<never>);
  if (result instanceof Promise) return false;
  return payload.issues.length === 0;
}

export type TransactionVerdict = { success: true; data: Transaction } | { success: false; error: z.ZodError };

/** transactionSchema.safeParse, through the compiled path when it can say "valid". */
export function judgeTransaction(value: unknown): TransactionVerdict {
  const fast = compiled.structure.safeParse(value);
  if (fast.success) {
    const type = compiled.byType.get((fast.data as { type: string }).type);
    if (type && type.deferred.every((check) => passes(check, fast.data)))
      return { success: true, data: fast.data as Transaction };
  }
  return transactionSchema.safeParse(value);
}

/** For the test that pins this to the contract: how many checks each type defers, and that it compiles. */
export const deferredChecks = (type: string): number => compiled.byType.get(type)?.deferred.length ?? 0;
export const compileStrictly = (): void => void compileTransaction(true);

/**
 * The contract's other message and body schemas, compiled (`z.compile` hands back the schema itself
 * when it cannot: right, only slower; the test compiles each strictly).
 */
export const compiledSchema = <T extends z.ZodType>(schema: T): T => z.compile(schema);
