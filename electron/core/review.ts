/**
 * Site review at scale: what arrived, one row per receive session (core/sessions.ts), paged in SQL; a session's
 * requests and transactions; identical problem reasons as one line; one transaction with where it has been.
 *
 * "A problem" is one definition everywhere (and the partial index incoming_problem_session holds exactly those
 * rows): failed, in conflict, blocked by a failed one, or waiting for a change that has not arrived.
 */
import { z } from 'zod';
import type { BatchTxRow, DeviceSummary, InspectedTx, ReasonGroup, RequestRow, SessionKind, SessionRow } from '../../shared/contract.ts';
import { ERROR_CODES, EdcError, type ErrorCode } from '../../shared/errors.ts';
import { heldIn } from '../../shared/fleet.ts';
import type { TxName } from '../../shared/domain.ts';
import { MODELS } from './domain/registry.ts';
import { holdingFor } from './fleet.ts';
import type { Store } from './store.ts';
import { containsText, jsonValues, listDistinct } from './db/dialect.ts';
import { auditHistory, fileBatch, incomingTransaction, receiveSession } from './db/schema.ts';
import { rowsOf, shaped } from './db/typed.ts';
import { countRow } from './row-shapes.ts';

/** Must stay the partial index's WHERE, word for word, for SQLite to use it. */
export const PROBLEM = 'is_error = 1 OR is_conflict = 1 OR blocked_by IS NOT NULL OR (is_consumed = 0 AND deferred_count > 0)';

const COUNTS = `count(*) AS total, count(*) FILTER (WHERE is_consumed = 1) AS consumed,
  count(*) FILTER (WHERE is_consumed = 0 AND is_error = 0 AND is_conflict = 0 AND is_ignored = 0 AND blocked_by IS NULL AND deferred_count = 0) AS pending,
  count(*) FILTER (WHERE is_consumed = 0 AND is_error = 0 AND is_conflict = 0 AND blocked_by IS NULL AND deferred_count > 0) AS deferred,
  count(*) FILTER (WHERE is_error = 1) AS error, count(*) FILTER (WHERE is_conflict = 1) AS conflicts, count(*) FILTER (WHERE blocked_by IS NOT NULL AND is_error = 0) AS blocked`;

const countsShape = {
  total: z.number(), consumed: z.number(), pending: z.number(), deferred: z.number(), error: z.number(), conflicts: z.number(), blocked: z.number(),
};
const sessionCounts = z.object({ session_id: z.string().nullable(), ...countsShape });
const requestCounts = z.object({ batch_id: z.string().nullable(), first: z.string(), ...countsShape });
const sessionDevice = z.object({ device: z.string(), producers: z.string(), transactions: z.number(), last_at: z.string() });
const producerProblems = z.object({ producer: z.string(), device: z.string().nullable(), n: z.number() });
const problemTotalsRow = z.object({ errors: z.number(), sessions: z.number() });
const batchTx = z.object({
  id: z.string(), producer: z.string(), producer_seq: z.number(), tx_name: z.string(), action: z.enum(['I', 'U', 'D']), is_consumed: z.number(),
  is_ignored: z.number(), is_error: z.number(), error: z.string().nullable(), is_conflict: z.number(), set_aside_at: z.string().nullable(),
  deferred_count: z.number(), deferred_reason: z.string().nullable(), blocked_by: z.string().nullable(), blocked_reason: z.string().nullable(), received_at: z.string(),
});
const reasonRow = z.object({
  kind: z.enum(['error', 'conflict', 'blocked', 'deferred']), reason: z.string(), n: z.number(), producers: z.string().nullable(), carriers: z.string().nullable(), sample: z.string(),
});

type Counts = Pick<SessionRow, 'total' | 'consumed' | 'pending' | 'deferred' | 'error' | 'conflicts' | 'blocked'>;
const ZERO: Counts = { total: 0, consumed: 0, pending: 0, deferred: 0, error: 0, conflicts: 0, blocked: 0 };
const counts = (r: Counts): Counts => ({
  total: r.total, consumed: r.consumed, pending: r.pending, deferred: r.deferred, error: r.error, conflicts: r.conflicts, blocked: r.blocked,
});

export function sessionKind(store: Store, via: string): SessionKind {
  if (via === 'file') return 'file';
  if (via === 'copy') return 'copy';
  // A middleman receives by pulling laptops; a site by pushes (from laptops, or drivers forwarding).
  return store.role === 'middleman' ? 'pull' : 'push';
}

export interface SessionQuery {
  page: number;
  pageSize: number;
  problems: boolean;
  device?: string | undefined;
}

/** A page of sessions, newest first, and how many match. Counts are aggregated for the page's sessions only. */
export function listSessions(store: Store, q: SessionQuery): { sessions: SessionRow[]; total: number } {
  const where: string[] = [];
  const args: unknown[] = [];
  if (q.device) {
    where.push(`(s.device = ? OR ${containsText(store.sql.dialect, "',' || s.producers || ','", "',' || ? || ','")})`);
    args.push(q.device, q.device);
  }
  if (q.problems) where.push(`s.id IN (SELECT session_id FROM incoming_transaction WHERE ${PROBLEM})`);
  const w = where.length ? `WHERE ${where.join(' AND ')}` : '';
  const total = shaped(store.sql, countRow, `SELECT count(*) AS n FROM receive_session s ${w}`).get(...args)!.n;
  const rows = rowsOf(store.sql, receiveSession, `SELECT * FROM receive_session s ${w} ORDER BY s.last_at DESC, s.id DESC LIMIT ? OFFSET ?`)
    .all(...args, q.pageSize, q.page * q.pageSize);
  const agg = new Map<string, Counts>();
  if (rows.length) {
    for (const r of shaped(store.sql, sessionCounts, `SELECT session_id, ${COUNTS} FROM incoming_transaction
        WHERE session_id IN (${jsonValues(store.sql.dialect)}) GROUP BY session_id`).all(JSON.stringify(rows.map((r) => r.id)))) {
      agg.set(String(r.session_id), counts(r));
    }
  }
  return {
    total,
    sessions: rows.map((r) => ({
      id: r.id, kind: sessionKind(store, r.via), channel: r.via, device: r.device,
      label: r.label, startedAt: r.started_at, lastAt: r.last_at, requests: r.requests,
      producers: r.producers.split(',').filter(Boolean).sort(), ...(agg.get(String(r.id)) ?? ZERO),
    })),
  };
}

/**
 * Per device (who handed sessions over, or whose changes they carried): sessions, changes, problems, last seen.
 * Reads the session table (hundreds of rows) and the problem rows (a partial index), never all transactions.
 */
export function deviceSummaries(store: Store): DeviceSummary[] {
  const by = new Map<string, DeviceSummary>();
  const get = (d: string) => {
    let s = by.get(d);
    if (!s) by.set(d, s = { device: d, sessions: 0, transactions: 0, problems: 0, lastAt: '' });
    return s;
  };
  for (const r of shaped(store.sql, sessionDevice, 'SELECT device, producers, transactions, last_at FROM receive_session').all()) {
    const involved = new Set([r.device, ...r.producers.split(',').filter(Boolean)]);
    for (const d of involved) {
      const s = get(d);
      s.sessions++;
      if (d === r.device) s.transactions += r.transactions;
      if (r.last_at > s.lastAt) s.lastAt = r.last_at;
    }
  }
  for (const r of shaped(store.sql, producerProblems, `SELECT i.producer, s.device, count(*) AS n FROM incoming_transaction i LEFT JOIN receive_session s ON s.id = i.session_id
      WHERE ${PROBLEM.replace(/\b(is_error|is_conflict|blocked_by|is_consumed|deferred_count)\b/g, 'i.$1')} GROUP BY i.producer, s.device`).all()) {
    get(r.producer).problems += r.n;
    if (r.device && r.device !== r.producer) get(r.device).problems += r.n;
  }
  return [...by.values()].sort((a, b) => b.lastAt.localeCompare(a.lastAt) || a.device.localeCompare(b.device)).slice(0, 500);
}

export function problemTotals(store: Store): { errors: number; problemSessions: number } {
  const r = shaped(store.sql, problemTotalsRow, `SELECT coalesce(sum(is_error), 0) AS errors, count(DISTINCT session_id) AS sessions FROM incoming_transaction WHERE ${PROBLEM}`).get()!;
  return { errors: r.errors, problemSessions: r.sessions };
}

export function sessionRequests(store: Store, sessionId: string): RequestRow[] {
  return shaped(store.sql, requestCounts, `SELECT batch_id, min(received_at) AS first, ${COUNTS} FROM incoming_transaction WHERE session_id = ?
      GROUP BY batch_id ORDER BY first, batch_id LIMIT 1000`).all(sessionId)
    .map((r) => ({ batchId: r.batch_id, receivedAt: r.first, ...counts(r) }));
}

/** The error code a stored reason starts with ("KEY_UNKNOWN: …"), if it names one. */
export function reasonCode(reason: string | null): ErrorCode | null {
  const m = reason ? /^([A-Z][A-Z_]+):/.exec(reason) : null;
  return m && m[1]! in ERROR_CODES ? m[1] as ErrorCode : null;
}

/** The columns txState and txReason read (a whole row has them too). */
type TxStateRow = Pick<z.infer<typeof batchTx>, 'set_aside_at' | 'is_error' | 'is_conflict' | 'is_ignored' | 'is_consumed' | 'blocked_by' | 'deferred_count' | 'error' | 'blocked_reason' | 'deferred_reason'>;

function txState(r: TxStateRow): BatchTxRow['state'] {
  if (r.set_aside_at) return 'set-aside';
  if (r.is_error) return 'error';
  if (r.is_conflict) return 'conflict';
  if (r.is_ignored) return 'ignored';
  if (r.is_consumed) return 'consumed';
  if (r.blocked_by) return 'blocked';
  return r.deferred_count > 0 ? 'deferred' : 'pending';
}

function txReason(r: TxStateRow, state: BatchTxRow['state']): string | null {
  switch (state) {
    case 'error': case 'conflict': case 'set-aside': return r.error;
    case 'blocked': return r.blocked_reason;
    case 'deferred': return r.deferred_reason;
    case 'consumed': case 'ignored': case 'pending': return null;
  }
}

export function sessionTransactions(store: Store, q: { sessionId: string; batchId?: string | null | undefined; onlyProblems: boolean; page: number; pageSize: number }): { rows: BatchTxRow[]; total: number } {
  const where = ['session_id = ?'];
  const args: unknown[] = [q.sessionId];
  if (q.batchId !== undefined) {
    where.push('batch_id IS NOT DISTINCT FROM ?');
    args.push(q.batchId);
  }
  if (q.onlyProblems) where.push(`(${PROBLEM})`);
  const w = where.join(' AND ');
  const total = shaped(store.sql, countRow, `SELECT count(*) AS n FROM incoming_transaction WHERE ${w}`).get(...args)!.n;
  const rows = shaped(store.sql, batchTx, `SELECT id, producer, producer_seq, tx_name, action, is_consumed, is_ignored, is_error, error, is_conflict, set_aside_at,
      deferred_count, deferred_reason, blocked_by, blocked_reason, received_at FROM incoming_transaction
    WHERE ${w} ORDER BY producer, producer_seq LIMIT ? OFFSET ?`).all(...args, q.pageSize, q.page * q.pageSize);
  return {
    total,
    rows: rows.map((r) => {
      const state = txState(r);
      const reason = txReason(r, state);
      return {
        id: r.id, producer: r.producer, producerSeq: r.producer_seq, txName: r.tx_name,
        action: r.action, state, reason, code: reasonCode(reason), receivedAt: r.received_at,
      };
    }),
  };
}

const UUID = /[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}/gi;

/**
 * Identical reasons as one line. SQL groups the exact texts (over the partial index of problem rows only); reasons
 * that differ only by the ids they name (a blocked change naming the failed one) are merged here.
 */
export function reasonGroups(store: Store, sessionId?: string): ReasonGroup[] {
  const p = PROBLEM.replace(/\b(is_error|is_conflict|blocked_by|is_consumed|deferred_count)\b/g, 'i.$1');
  const rows = shaped(store.sql, reasonRow, `SELECT
      CASE WHEN i.is_error = 1 THEN 'error' WHEN i.is_conflict = 1 THEN 'conflict' WHEN i.blocked_by IS NOT NULL THEN 'blocked' ELSE 'deferred' END AS kind,
      coalesce(CASE WHEN i.is_error = 1 OR i.is_conflict = 1 THEN i.error WHEN i.blocked_by IS NOT NULL THEN i.blocked_reason ELSE i.deferred_reason END, '') AS reason,
      count(*) AS n, ${listDistinct(store.sql.dialect, 'i.producer')} AS producers, ${listDistinct(store.sql.dialect, 's.device')} AS carriers, min(i.id) AS sample
    FROM incoming_transaction i LEFT JOIN receive_session s ON s.id = i.session_id
    WHERE (${p}) ${sessionId ? 'AND i.session_id = ?' : ''}
    GROUP BY kind, reason ORDER BY n DESC LIMIT 2000`).all(...(sessionId ? [sessionId] : []));
  const merged = new Map<string, ReasonGroup & { p: Set<string>; c: Set<string> }>();
  for (const r of rows) {
    const text = r.reason.replace(UUID, '…');
    const key = `${r.kind}\u0000${text}`;
    let g = merged.get(key);
    if (!g) merged.set(key, g = { kind: r.kind, code: reasonCode(r.reason), reason: text, count: 0, producers: [], carriers: [], sampleId: r.sample, p: new Set(), c: new Set() });
    g.count += r.n;
    for (const x of (r.producers ?? '').split(',')) if (x) g.p.add(x);
    for (const x of (r.carriers ?? '').split(',')) if (x) g.c.add(x);
  }
  return [...merged.values()].sort((a, b) => b.count - a.count || a.reason.localeCompare(b.reason)).slice(0, 100)
    .map(({ p, c, ...g }) => ({ ...g, producers: [...p].sort(), carriers: [...c].filter((x) => !p.has(x)).sort() }));
}

/**
 * One received transaction: envelope fields, where it has been (made → received → applied/failed → passed on →
 * at central, as far as this device knows), the record's audit rows. Content is the caller's business (decrypt).
 */
export function inspectTransaction(store: Store, id: string): Omit<InspectedTx, 'content' | 'contentHidden' | 'contentError' | 'protectedFields' | 'history'> & { history: (InspectedTx['history'][number] & { raw: Record<string, [unknown, unknown]> })[] } {
  const r = rowsOf(store.sql, incomingTransaction, 'SELECT * FROM incoming_transaction WHERE id = ?').get(id);
  if (!r) throw new EdcError('TRANSACTION_UNKNOWN', id);
  const state = txState(r);
  const reason = txReason(r, state);
  const session = r.session_id ? rowsOf(store.sql, receiveSession, 'SELECT * FROM receive_session WHERE id = ?').get(r.session_id) : undefined;
  const producer = r.producer;
  const seq = r.producer_seq;
  const hops: InspectedTx['hops'] = [{ step: 'made', at: r.timestamp, device: producer, detail: null }];
  hops.push({ step: 'received', at: r.received_at, device: session ? session.device : null, detail: session?.label ?? r.received_via });
  if (r.set_aside_at) hops.push({ step: 'setAside', at: r.set_aside_at, device: store.deviceId, detail: reason });
  else if (r.is_consumed) hops.push({ step: 'applied', at: r.consumed_at, device: store.deviceId, detail: null });
  else if (r.is_error) hops.push({ step: 'failed', at: null, device: store.deviceId, detail: reason });
  if (r.forwarded_at && store.role === 'middleman') hops.push({ step: 'forwarded', at: r.forwarded_at, device: null, detail: null });
  let atCentral = false;
  if (r.export_batch_id) {
    const f = rowsOf(store.sql, fileBatch, 'SELECT * FROM file_batch WHERE batch_id = ?').get(r.export_batch_id);
    if (f) {
      hops.push({ step: 'exported', at: f.written_at ?? f.created_at, device: store.deviceId, detail: f.file_name });
      if (f.sent_at) hops.push({ step: 'sent', at: f.sent_at, device: null, detail: f.file_name });
      if (f.acknowledged_at) {
        hops.push({ step: 'atCentral', at: f.acknowledged_at, device: null, detail: null });
        atCentral = true;
      }
    }
  }
  if (!atCentral && store.role === 'site') {
    const h = holdingFor(store, producer);
    if (heldIn({ contiguous: h.central, extra: h.centralExtra }, seq)) hops.push({ step: 'atCentral', at: null, device: null, detail: null });
  }
  const txName = r.tx_name;
  const history = rowsOf(store.sql, auditHistory, 'SELECT * FROM audit_history WHERE tx_name = ? AND record_id = ? ORDER BY at, revision LIMIT 200').all(txName, r.tx_pk)
    .map((h) => {
      let raw: Record<string, [unknown, unknown]> = {};
      try {
        raw = JSON.parse(h.changes) as typeof raw;
      } catch {
        // a damaged row: shown without its changes
      }
      return {
        action: h.action, revision: h.revision, user: h.user, host: h.hostname, device: h.device_id,
        at: h.at, thisChange: h.transaction_id === id, fields: Object.keys(raw).length, changes: null, reason: h.reason, raw,
      };
    });
  return {
    envelope: {
      id: r.id, producer, producerSeq: seq, txName, recordId: r.tx_pk, action: r.action,
      madeAt: r.timestamp, schemaVersion: r.schema_version, keyId: r.key_id, signed: r.sig !== null,
    },
    state, reason, code: reasonCode(reason), sessionId: r.session_id, hops, history,
  };
}

/**
 * An audit row's stored changes with the PII columns decrypted (for roles with "decrypt"). A middleman's carrier key
 * set cannot: those columns come back [null, null] and are added to `protectedOut`.
 */
export function decryptChanges(store: Store, txName: string, raw: Record<string, [unknown, unknown]>, protectedOut?: string[]): Record<string, [unknown, unknown]> {
  const model = MODELS.get(txName as TxName);
  if (!model || model.pii.length === 0) return raw;
  const keys = store.requireKeys();
  const out: Record<string, [unknown, unknown]> = {};
  const hashes = new Set(model.pii.map((p) => p.hashSql));
  for (const [col, pair] of Object.entries(raw)) {
    if (hashes.has(col)) continue;
    const pii = model.pii.find((p) => p.sql === col);
    if (pii && !keys.canReadPii) {
      out[col] = [null, null];
      if (protectedOut && !protectedOut.includes(col)) protectedOut.push(col);
      continue;
    }
    out[col] = pii ? pair.map((v) => (typeof v === 'string' ? keys.decryptField(pii.sql, v) : v)) as [unknown, unknown] : pair;
  }
  return out;
}
