/**
 * The few SQL constructs SQLite and PostgreSQL spell differently, spelled once here (see port.ts for the common
 * subset the core keeps to). Each takes the port's dialect and returns a fragment; callers build a statement once
 * per port and reuse it.
 */
import type { Dialect } from './port.ts';

/** Rows with one column `value`, one per element of a JSON array of strings bound at this `?`. */
export function jsonValues(d: Dialect): string {
  return d === 'postgres' ? 'SELECT value FROM json_array_elements_text(?::json) AS j(value)' : 'SELECT value FROM json_each(?)';
}

/**
 * `column` is one of the strings of the JSON array bound at this `?`. PostgreSQL: as `= ANY(array)`, which it answers
 * with an index scan of `column` whatever the table's size (an IN over a set-returning function it may plan as a scan
 * of the whole table once the table has grown past the function's estimate of 100 rows).
 */
export function inJsonList(d: Dialect, column: string): string {
  return d === 'postgres' ? `${column} = ANY(ARRAY(SELECT json_array_elements_text(?::json)))` : `${column} IN (SELECT value FROM json_each(?))`;
}

/** A FROM item: the elements of the JSON array held in `expr` (a column), as `alias.value`. */
export function jsonEach(d: Dialect, expr: string, alias: string): string {
  return d === 'postgres' ? `LATERAL json_array_elements_text((${expr})::json) AS ${alias}(value)` : `json_each(${expr}) AS ${alias}`;
}

/** The distinct values of `expr` in a group, comma-separated. */
export function listDistinct(d: Dialect, expr: string): string {
  return d === 'postgres' ? `string_agg(DISTINCT ${expr}, ',')` : `group_concat(DISTINCT ${expr})`;
}

/** Whether text `needle` occurs in text `hay`. */
export function containsText(d: Dialect, hay: string, needle: string): string {
  return d === 'postgres' ? `strpos(${hay}, ${needle}) > 0` : `instr(${hay}, ${needle}) > 0`;
}

/** An inner join that keeps the written table order: SQLite's CROSS JOIN (which its planner never reorders); PostgreSQL plans it itself. */
export function orderedJoin(d: Dialect): string {
  return d === 'postgres' ? 'JOIN' : 'CROSS JOIN';
}

/** Text of element `index` of the array under `key` in the JSON object held in `expr` (an audit row's changes: {col: [old, new]}). */
export function jsonArrayItem(d: Dialect, expr: string, key: string, index: number): string {
  if (!/^[a-z_]+$/.test(key)) throw new Error(`jsonArrayItem: ${key} is not a column name`);
  return d === 'postgres' ? `((${expr})::json -> '${key}' ->> ${index})` : `json_extract(${expr}, '$.${key}[${index}]')`;
}
