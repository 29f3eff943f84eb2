import { sale } from './pos-payloads.js';

/**
 * A valid sale's text as a POS might really send it, with everything a JSON parser and serialiser would
 * change: a 20-digit loyalty number and a long negative decimal (rounded by a double), integer-like keys
 * out of order (moved to the front by any JS object), escapes (`\u00e9`, `\/`, `\n`, `\"`, a surrogate
 * pair) and unusual whitespace (tabs, CRLF, spaces before colons and commas, around the whole text). The
 * hub must keep and serve this very text. `lineBreaks: false` keeps it on one line (tabs and spaces only),
 * as a JSON Lines export can carry it unchanged.
 */
export function exactSaleText(
  n: number,
  terminalId = 'T1',
  options: { outerWhitespace?: boolean; lineBreaks?: boolean } = {},
): string {
  const newline = options.lineBreaks === false ? ' \t' : '\r\n';
  let base = JSON.stringify(sale({ terminalId, transactionId: `exact-${terminalId}-${n}` }, n), null, '\t')
    .replace('"Pencil HB"', String.raw`"Caf\u00e9 cr\u00e8me \/ HB\n\"2B\""`)
    .replace('"currency": "EUR"', '"currency" :\t"EUR"');
  if (options.lineBreaks === false) base = base.replace(/\n/g, ' ');
  const extensions =
    '"extensions" :  {"loyaltyCard": 12345678901234567891, "2": "second", "1": "first",' +
    ' "ratio": -98765432109876543210.5e-3, "note": "\\u00e9t\\u00e9 \\/ \\ud83d\\ude00"}';
  const body = `${base.slice(0, -1)}  ,${newline}\t${extensions}${newline}}`;
  return options.outerWhitespace === false ? body : `${newline}  ${body}  ${newline}`;
}
