import type { ComponentChildren } from 'preact';

/** A column's heading; a numeric column is right-aligned, heading and cells alike. */
export type Column = string | { label: string; numeric: true };

export const numeric = (label: string): Column => ({ label, numeric: true });

/**
 * The console's tables: headings in a row of column headers, one row per item (the caller's `<tr>`), and
 * a horizontal scroll of their own on a narrow screen. With `empty`, no items are said in words instead.
 */
export function DataTable<T>(props: {
  columns: readonly Column[];
  rows: readonly T[];
  row: (item: T) => ComponentChildren;
  empty?: string;
  class?: string;
}) {
  if (props.empty !== undefined && props.rows.length === 0) return <p>{props.empty}</p>;
  return (
    <div class="table-wrap">
      <table class={props.class}>
        <thead>
          <tr>
            {props.columns.map((column, i) =>
              typeof column === 'string' ? (
                <th key={i} scope="col">
                  {column}
                </th>
              ) : (
                <th key={i} scope="col" class="num">
                  {column.label}
                </th>
              ),
            )}
          </tr>
        </thead>
        <tbody>{props.rows.map(props.row)}</tbody>
      </table>
    </div>
  );
}
