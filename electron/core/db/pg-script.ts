/**
 * Writes held back by the PostgreSQL port (Query.later, pg-port.ts) as one multi-statement simple query, which the
 * worker (pg-worker.ts) sends in one round trip: run in order, stopping at the first error (which fails the caller's
 * transaction). Each value becomes a quoted literal of unknown type, as the extended protocol sends a parameter (its
 * text, the type left for the server to infer), so each means what it would as a bound value. Only strings without NUL,
 * numbers, booleans and null come here (pg-port.ts sends any other value bound, at once).
 * A run of the same INSERT … VALUES (…) [ON CONFLICT … DO NOTHING] becomes one statement of many rows (the same rows,
 * in the same order).
 */

export interface Deferred { text: string; values: unknown[] }

/** The statements, values in place, joined with `;`. */
export function script(items: readonly Deferred[], escape: (text: string) => string): string {
  const statements: string[] = [];
  for (let i = 0; i < items.length;) {
    const { text } = items[i]!;
    let j = i + 1;
    while (j < items.length && items[j]!.text === text) j++;
    const t = template(text);
    // A run of the same INSERT … VALUES (…) is one statement of many rows: the same rows, in the same order.
    if (j - i > 1 && t.rows) statements.push(t.rows.head + items.slice(i, j).map((it) => fill(t.rows!.tuple, it.values, escape)).join(', ') + t.rows.tail);
    else for (const it of items.slice(i, j)) statements.push(fill(t.whole, it.values, escape));
    i = j;
  }
  return statements.join(';\n');
}

/** A statement cut at its `?` or `$n` placeholders (outside quoted strings and identifiers): text pieces and value numbers. */
interface Cut { pieces: string[]; slots: number[] }
interface Template { whole: Cut; rows: { head: string; tuple: Cut; tail: string } | null }
const templates = new Map<string, Template>();

function template(text: string): Template {
  let t = templates.get(text);
  if (!t) {
    // Not ON CONFLICT … DO UPDATE: two rows of one statement may not update the same row (they may, one at a time).
    const m = /^(INSERT INTO [^;]+? VALUES\s*)(\([$\d,\s]+\))(\s*(?:ON CONFLICT\s*(?:\([^()]*\))?\s*DO NOTHING)?\s*)$/s.exec(text);
    t = { whole: cut(text), rows: m ? { head: m[1]!, tuple: cut(m[2]!), tail: m[3]! } : null };
    templates.set(text, t);
  }
  return t;
}

export function cut(text: string): Cut {
  const pieces: string[] = [];
  const slots: number[] = [];
  let piece = '';
  let quote: string | null = null;
  for (let i = 0; i < text.length; i++) {
    const ch = text[i]!;
    if (quote) {
      if (ch === quote) quote = null;
      piece += ch;
    } else if (ch === "'" || ch === '"') {
      quote = ch;
      piece += ch;
    } else if (ch === '?' || (ch === '$' && /[0-9]/.test(text[i + 1] ?? ''))) {
      // `?` (the port's own placeholders, numbered in order) or `$n`.
      let j = i + 1;
      while (ch === '$' && j < text.length && /[0-9]/.test(text[j]!)) j++;
      pieces.push(piece);
      piece = '';
      slots.push(ch === '?' ? slots.length + 1 : Number(text.slice(i + 1, j)));
      i = j - 1;
    } else piece += ch;
  }
  pieces.push(piece);
  return { pieces, slots };
}

/** The statement with each `$n` replaced by the literal of the n-th value. */
export function fill(t: Cut, values: unknown[], escape: (text: string) => string): string {
  let out = t.pieces[0]!;
  for (let k = 0; k < t.slots.length; k++) {
    const n = t.slots[k]!;
    if (n < 1 || n > values.length) throw new Error(`placeholder $${n} has no value`);
    out += literal(values[n - 1], escape) + t.pieces[k + 1]!;
  }
  return out;
}

/** A bound value as the quoted literal the server reads as that parameter (pg's text form of it). */
function literal(v: unknown, escape: (text: string) => string): string {
  if (v === null || v === undefined) return 'NULL';
  // Without a backslash, doubling the quotes is the whole escape (standard_conforming_strings, on since PostgreSQL 9.1);
  // with one, the client's escapeLiteral (an E'' string).
  if (typeof v === 'string') return v.includes('\\') ? escape(v) : `'${v.replaceAll("'", "''")}'`;
  if (typeof v === 'number' || typeof v === 'bigint' || typeof v === 'boolean') return `'${String(v)}'`;
  throw new Error(`a value of type ${typeof v} cannot be sent with a deferred write`);
}

