/**
 * Finding a participant by part of a name, the participant number, the identity number or the phone, on the laptop,
 * without plaintext personal details at rest: the names and numbers are decrypted into an index held in memory only
 * (one per open store), never written anywhere. Before each search the index compares the table's (id, revision)
 * pairs with its own, decrypting only what is new or changed and dropping what was deleted, so it follows every
 * writer (the app, the CLI's seed, a conflict resolution) without a hook in the write path. ~500 participants: one
 * indexed scan of two columns per search, decrypting only the changed rows.
 */
import { z } from 'zod';
import { jsonValues } from './db/dialect.ts';
import { shaped } from './db/typed.ts';
import type { Store } from './store.ts';

interface Entry {
  revision: number;
  created: string;
  /** Normalised (lower case, no accents) first and last name. */
  names: string[];
  /** Letters and digits only, lower case: participant number, identity number. */
  identifier: string;
  identity: string;
  /** Digits only. */
  phone: string;
}

/** Lower case, accents removed, so "Nthabiséng" is found by "nthabiseng". */
export function normaliseText(s: string): string {
  return s.normalize('NFKD').replace(/\p{M}/gu, '').toLowerCase().trim();
}

// What the index reads, checked where it is read (db/typed.ts); PII as stored (ciphertext), phone optional.
const idRevision = z.object({ id: z.string(), revision: z.number() });
const indexedRow = z.object({
  id: z.string(), revision: z.number(), created: z.string(), subject_identifier: z.string(), first_name: z.string(), last_name: z.string(),
  identity_number: z.string(), phone: z.string().nullable(),
});

const compact = (s: string) => normaliseText(s).replace(/[^\p{L}\p{N}]/gu, '');
const digits = (s: string) => s.replace(/\D/g, '');

export class SubjectIndex {
  private readonly entries = new Map<string, Entry>();

  constructor(private readonly store: Store) {}

  /** Brings the index up to date with the table: new and changed rows decrypted, deleted ones dropped. */
  refresh(): void {
    const seen = new Set<string>();
    const stale: string[] = [];
    for (const r of shaped(this.store.sql, idRevision, 'SELECT id, revision FROM subject').all()) {
      seen.add(r.id);
      if (this.entries.get(r.id)?.revision !== r.revision) stale.push(r.id);
    }
    for (const id of this.entries.keys()) if (!seen.has(id)) this.entries.delete(id);
    if (stale.length === 0) return;
    const keys = this.store.requireKeys();
    const q = shaped(this.store.sql, indexedRow, `SELECT id, revision, created, subject_identifier, first_name, last_name, identity_number, phone FROM subject WHERE id IN (${jsonValues(this.store.sql.dialect)})`);
    for (let i = 0; i < stale.length; i += 500) {
      for (const r of q.all(JSON.stringify(stale.slice(i, i + 500)))) {
        const open = (col: 'first_name' | 'last_name' | 'identity_number' | 'phone') => {
          const v = r[col];
          return typeof v === 'string' ? keys.decryptField(col, v) : '';
        };
        this.entries.set(String(r.id), {
          revision: Number(r.revision),
          created: String(r.created),
          names: [open('first_name'), open('last_name')].map(normaliseText),
          identifier: compact(String(r.subject_identifier)),
          identity: compact(open('identity_number')),
          phone: digits(open('phone')),
        });
      }
    }
  }

  /**
   * Ids of the participants the query finds, newest registration first. Every word of the query must be found in
   * the participant (part of the first name or surname, of the participant number, identity number or phone), or
   * the whole query, without spaces, in one of the numbers ("71 234 567" finds +267 71 234 567).
   */
  search(query: string): string[] {
    this.refresh();
    const words = normaliseText(query).split(/\s+/).filter(Boolean);
    if (words.length === 0) return [];
    const whole = compact(query);
    const wholeDigits = digits(query);
    const hit = (e: Entry, word: string): boolean => {
      if (e.names.some((n) => n.includes(word))) return true;
      const w = compact(word);
      if (w === '') return false;
      if (e.identifier.includes(w) || e.identity.includes(w)) return true;
      const d = digits(word);
      return d.length > 0 && d.length === w.length && e.phone.includes(d);
    };
    const out: { id: string; created: string }[] = [];
    for (const [id, e] of this.entries) {
      const byWhole = whole.length >= 3 && (e.identifier.includes(whole) || e.identity.includes(whole) || (wholeDigits.length >= 3 && wholeDigits.length === whole.length && e.phone.includes(wholeDigits)));
      if (byWhole || words.every((w) => hit(e, w))) out.push({ id, created: e.created });
    }
    out.sort((a, b) => (a.created < b.created ? 1 : a.created > b.created ? -1 : a.id < b.id ? 1 : -1));
    return out.map((x) => x.id);
  }

  get size(): number {
    return this.entries.size;
  }
}

const indexes = new WeakMap<Store, SubjectIndex>();

/** The open store's index (made on first use; in memory only). */
export function subjectIndex(store: Store): SubjectIndex {
  let ix = indexes.get(store);
  if (!ix) indexes.set(store, ix = new SubjectIndex(store));
  return ix;
}
