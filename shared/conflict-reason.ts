/**
 * What a conflict's stored reason says, read back for the sentence a person reads. The consumer writes the reason
 * for support ("edc.subject 5c1…: deleted from revision 1 but this copy is at revision 2"); the screens say the same
 * in the users' words ("This participant was deleted on another device …") and keep the stored text as details.
 * The kinds are those the Conflicts screen uses (conflicts.list).
 */
import type { ConflictRow } from './contract.ts';

export interface ConflictReason {
  /** The model (edc.subject …), named on screen by its catalogue word (participant …). */
  txName: string;
  kind: ConflictRow['kind'];
  /** The revision the incoming change was made from, and the one here, where the reason gives them. */
  base: number | null;
  here: number | null;
}

const PATTERNS: { re: RegExp; kind: ConflictRow['kind']; base?: number; here?: number }[] = [
  { re: /^(edc\.[a-z_]+) \S+: the update was made from revision (\d+) but this copy is at revision (\d+)/, kind: 'update-changed', base: 2, here: 3 },
  { re: /^(edc\.[a-z_]+) \S+: deleted from revision (\d+) but this copy is at revision (\d+)/, kind: 'delete-changed', base: 2, here: 3 },
  { re: /^(edc\.[a-z_]+) \S+ was deleted here; the update was not applied/, kind: 'update-deleted' },
  { re: /^(edc\.[a-z_]+) \S+ already exists here at revision (\d+)/, kind: 'exists', here: 2 },
  { re: /^(edc\.[a-z_]+) natural key \(.*\) is already used by record \S+/, kind: 'natural-key' },
];

/** The conflict a stored reason describes, or null when it is not one the consumer writes. */
export function readConflictReason(reason: string | null | undefined): ConflictReason | null {
  if (!reason) return null;
  for (const p of PATTERNS) {
    const m = p.re.exec(reason);
    if (m) return { txName: m[1]!, kind: p.kind, base: p.base ? Number(m[p.base]) : null, here: p.here ? Number(m[p.here]) : null };
  }
  return null;
}
