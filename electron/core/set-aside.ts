/**
 * Set aside, never drop (issue 9): a data manager decides that a received transaction that can never apply (its
 * ciphertext damaged beyond a resend, a record of the wrong kind, a device that is gone) stops counting as a problem.
 * The transaction stays on record, as received; the decision is an `edc.set_aside` record written through the write
 * path, so it is in the audit history with the person and the reason, and it travels on like any change: a receiver
 * further on (central) sets aside its own copy of the same transaction when the decision reaches it, whichever of the
 * two arrives first (core/consumer.ts). The transactions blocked by it are listed for the same decision.
 */
import { z } from 'zod';
import { EdcError } from '../../shared/errors.ts';
import type { Actor } from './write-path.ts';
import { WritePath } from './write-path.ts';
import { shaped } from './db/typed.ts';
import type { Store } from './store.ts';

export interface SetAsideCandidate {
  id: string;
  producer: string;
  producerSeq: number;
  txName: string;
  txPk: string;
  state: 'error' | 'blocked';
  reason: string | null;
}

/** What SELECT reads, checked where it is read (db/typed.ts); is_error as stored (0 | 1). */
const candidateRow = z.object({
  id: z.string(), producer: z.string(), producer_seq: z.number(), tx_name: z.string(), tx_pk: z.string(),
  is_error: z.number(), error: z.string().nullable(), blocked_by: z.string().nullable(), blocked_reason: z.string().nullable(),
});
type Row = z.infer<typeof candidateRow>;

function candidate(r: Row): SetAsideCandidate {
  const failed = Boolean(r.is_error);
  return { id: r.id, producer: r.producer, producerSeq: Number(r.producer_seq), txName: r.tx_name, txPk: r.tx_pk,
    state: failed ? 'error' : 'blocked', reason: failed ? r.error : r.blocked_reason };
}

const SELECT = 'SELECT id, producer, producer_seq, tx_name, tx_pk, is_error, error, blocked_by, blocked_reason FROM incoming_transaction';

export interface SetAsidePlan {
  root: SetAsideCandidate;
  /** Blocked by it: they wait for it, so for ever. */
  dependants: SetAsideCandidate[];
  /** The same device's other changes that failed for exactly the same reason (a lost key fails a whole day). */
  alike: SetAsideCandidate[];
}

/** The received transactions blocked by any of `ids`, once each and none of `ids` itself. */
function waitingFor(store: Store, ids: readonly string[]): SetAsideCandidate[] {
  const blockedBy = shaped(store.sql, candidateRow, `${SELECT} WHERE blocked_by = ? ORDER BY producer, producer_seq LIMIT 10000`);
  const seen = new Set(ids);
  const out: SetAsideCandidate[] = [];
  for (const id of ids) {
    for (const d of blockedBy.all(id)) {
      if (seen.has(d.id)) continue;
      seen.add(d.id);
      out.push(candidate(d));
    }
  }
  return out;
}

/** What setting aside `id` would cover: the transaction, those blocked by it, and its like (see SetAsidePlan). */
export function setAsidePlan(store: Store, id: string): SetAsidePlan {
  const row = shaped(store.sql, candidateRow, `${SELECT} WHERE id = ?`).get(id);
  if (!row) throw new EdcError('TRANSACTION_UNKNOWN', id);
  if (!row.is_error && !row.blocked_by) throw new EdcError('SET_ASIDE_NOT_FAILED', `${id} has not failed and waits for no failed change`);
  const alike = row.is_error && row.error
    ? shaped(store.sql, candidateRow, `${SELECT} WHERE producer = ? AND is_error = 1 AND error = ? AND id <> ? ORDER BY producer_seq LIMIT 10000`).all(row.producer, row.error, id)
    : [];
  return { root: candidate(row), dependants: waitingFor(store, [id]), alike: alike.map(candidate) };
}

/**
 * Sets aside `id` (with `withDependants`, what waits for what is set aside; with `withAlike`, its like) with the
 * person's reason. Returns the ids set aside and the plan they came from. All of it in one write transaction: the
 * decisions, their audit rows and outgoing transactions, the marks.
 */
export function setAsideTransactions(store: Store, id: string, reason: string, actor: Actor, opts: { withDependants: boolean; withAlike?: boolean }): { ids: string[]; plan: SetAsidePlan } {
  const why = reason.trim();
  if (why.length < 3) throw new EdcError('INPUT_INVALID', 'say why it is set aside (at least a few words)');
  const write = new WritePath(store);
  return store.guarded(() => {
    const plan = setAsidePlan(store, id);
    const picked = [plan.root, ...(opts.withAlike ? plan.alike : [])];
    const chosen = [...picked, ...(opts.withDependants ? waitingFor(store, picked.map((p) => p.id)) : [])];
    for (const c of chosen) {
      write.insert('edc.set_aside', {
        transactionId: c.id, producer: c.producer, producerSeq: c.producerSeq, txName: c.txName, txPk: c.txPk, reason: why,
        rootTransactionId: c.id === plan.root.id ? null : plan.root.id,
      }, actor);
      markSetAside(store, c.id, why, actor.user);
    }
    return { ids: chosen.map((c) => c.id), plan };
  });
}

/**
 * Marks a received transaction set aside, in the caller's write transaction: consumed (the producer's later ones never
 * wait for it), not an error, not blocked, nothing asked again; the reason kept. Only one that has not applied: one
 * marked failed or blocked, or (`failing`) one the consumer is about to mark so. `from`: the decision came from that
 * device, and only a transaction received from it is set aside (a device sets aside only what it passed on).
 */
export function markSetAside(store: Store, id: string, reason: string, by: string, opts: { from?: string; failing?: boolean } = {}): boolean {
  const now = new Date().toISOString();
  return store.sql.prepare(`UPDATE incoming_transaction SET is_consumed = 1, consumed_at = ?, is_ignored = 1, is_error = 0, error = ?, set_aside_at = ?,
      blocked_by = NULL, blocked_reason = NULL, deferred_reason = NULL, retry_due = 0, resend_requested_at = NULL
    WHERE id = ? AND is_consumed = 0 AND (? = 1 OR is_error = 1 OR blocked_by IS NOT NULL)
      AND (CAST(? AS TEXT) IS NULL OR session_id IN (SELECT rs.id FROM receive_session rs WHERE rs.device = ?))`)
    .run(now, `Set aside by ${by}: ${reason}`, now, id, opts.failing ? 1 : 0, opts.from ?? null, opts.from ?? null).changes > 0;
}
