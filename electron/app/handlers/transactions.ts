/** Pending transactions: this device's own, or (middleman) those it pulled and passes on; decrypted for authorised readers. */
import { z } from 'zod';
import type { TxName } from '../../../shared/domain.ts';
import type { PendingRow } from '../../../shared/contract.ts';
import { EdcError } from '../../../shared/errors.ts';
import { MODELS, SCHEMA_VERSION, toJs } from '../../core/domain/registry.ts';
import { upcast } from '../../core/domain/upcast.ts';
import { incomingTransaction, outgoingTransaction } from '../../core/db/schema.ts';
import { rowsOf, shaped } from '../../core/db/typed.ts';
import { countRow } from '../../core/row-shapes.ts';
import { Study } from '../../core/domain/study.ts';
import { envelopeAad, type EnvelopeRow, type RawRow } from '../../core/envelope.ts';
import type { Store } from '../../core/store.ts';
import { heldIn } from '../../../shared/fleet.ts';
import { holdingFor, ownHolding } from '../../core/fleet.ts';
import type { AreaHandlers, HandlerContext } from '../context.ts';

// The pending list's columns (each table's own), checked where they are read (core/db/typed.ts).
const pendingBase = { id: z.string(), producer: z.string(), producer_seq: z.number(), tx_name: z.string(), action: z.enum(['I', 'U', 'D']), timestamp: z.string(), key_id: z.string(), batch_id: z.string().nullable() };
const outgoingPending = z.object({ ...pendingBase, is_consumed_server: z.number(), is_consumed_middleman: z.number() });
const incomingPending = z.object({ ...pendingBase, forwarded_at: z.string().nullable() });

export function transactionHandlers(ctx: HandlerContext): AreaHandlers<'pending.list' | 'pending.open'> {
  /** Where an own transaction is now (see core/fleet.ts hopSql; same rule). */
  const ownHop = (store: Store, r: Record<string, unknown>): PendingRow['hop'] => {
    const h = ownHolding(store);
    const seq = Number(r.producer_seq);
    if (heldIn(h.central, seq)) return 'central';
    if (r.is_consumed_server || seq <= h.site) return 'site';
    return r.is_consumed_middleman ? 'middleman' : 'here';
  };
  /** Where a transaction this device passes on is now: here until the next hop acknowledged it. */
  const forwardedHop = (store: Store, r: Record<string, unknown>): PendingRow['hop'] => {
    const h = holdingFor(store, String(r.producer));
    if (heldIn({ contiguous: h.central, extra: h.centralExtra }, Number(r.producer_seq))) return 'central';
    return r.forwarded_at ? 'site' : 'here';
  };
  const outgoingRow = (r: Record<string, unknown>): PendingRow => ({
    id: String(r.id), producer: String(r.producer), producerSeq: Number(r.producer_seq), txName: String(r.tx_name),
    action: r.action as PendingRow['action'], timestamp: String(r.timestamp), keyId: String(r.key_id),
    state: r.is_consumed_server ? 'delivered' : r.is_consumed_middleman ? 'pending-server' : 'pending-middleman',
    hop: ownHop(ctx.need(), r),
    batchId: (r.batch_id as string | null) ?? null,
  });
  const incomingRow = (r: Record<string, unknown>): PendingRow => ({
    id: String(r.id), producer: String(r.producer), producerSeq: Number(r.producer_seq), txName: String(r.tx_name),
    action: r.action as PendingRow['action'], timestamp: String(r.timestamp), keyId: String(r.key_id),
    state: r.forwarded_at ? 'delivered' : 'pending-server', hop: forwardedHop(ctx.need(), r), batchId: (r.batch_id as string | null) ?? null,
  });
  return {
    'pending.list': async ({ source, txName, state, page, pageSize }) => {
      const s = ctx.need();
      const forwarding = source === 'forwarding';
      if (forwarding && s.role === 'field') throw new EdcError('ROLE_NOT_ALLOWED', 'a field laptop forwards nothing');
      const where: string[] = [];
      const args: unknown[] = [];
      if (txName) {
        where.push('tx_name = ?');
        args.push(txName);
      }
      if (forwarding) {
        // What this device received and passes on: the next hop's acknowledgement sets forwarded_at.
        if (state === 'pending-server' || state === 'pending-middleman') where.push('forwarded_at IS NULL');
        else if (state === 'delivered') where.push('forwarded_at IS NOT NULL');
      } else if (state === 'pending-server') where.push('is_consumed_server = 0');
      else if (state === 'pending-middleman') where.push('is_consumed_server = 0 AND is_consumed_middleman = 0');
      else if (state === 'delivered') where.push('is_consumed_server = 1');
      const table = forwarding ? 'incoming_transaction' : 'outgoing_transaction';
      const cols = forwarding ? 'forwarded_at' : 'is_consumed_server, is_consumed_middleman';
      const w = where.length ? `WHERE ${where.join(' AND ')}` : '';
      const total = shaped(s.sql, countRow, `SELECT count(*) AS n FROM ${table} ${w}`).get(...args)!.n;
      const sql = `SELECT id, producer, producer_seq, tx_name, action, timestamp, key_id, batch_id, ${cols}
        FROM ${table} ${w} ORDER BY ${forwarding ? 'received_at DESC, producer, producer_seq DESC' : 'producer_seq DESC'} LIMIT ? OFFSET ?`;
      const rows = forwarding
        ? shaped(s.sql, incomingPending, sql).all(...args, pageSize, page * pageSize).map(incomingRow)
        : shaped(s.sql, outgoingPending, sql).all(...args, pageSize, page * pageSize).map(outgoingRow);
      return { rows, total };
    },

    'pending.open': async ({ id }) => {
      const s = ctx.need();
      const own = rowsOf(s.sql, outgoingTransaction, 'SELECT * FROM outgoing_transaction WHERE id = ?').get(id);
      if (own) return { row: outgoingRow(own), content: decryptEnvelope(s, own) };
      const received = rowsOf(s.sql, incomingTransaction, 'SELECT * FROM incoming_transaction WHERE id = ?').get(id);
      if (!received) throw new EdcError('RECORD_NOT_FOUND', `transaction ${id}`);
      return { row: incomingRow(received), content: decryptEnvelope(s, received) };
    },
  };
}

/** A transaction's content (outgoing, or received to pass on) for an authorised reader: envelope decrypted, then the PII fields. */
export function decryptEnvelope(store: Store, row: EnvelopeRow): Record<string, unknown> {
  let payload: { record?: RawRow; history?: unknown };
  try {
    payload = JSON.parse(store.requireKeys().decrypt(row.key_id, row.tx, envelopeAad(row)).toString('utf8')) as typeof payload;
  } catch (e) {
    if (e instanceof EdcError) throw e;
    throw new EdcError('PAYLOAD_INVALID', 'not JSON');
  }
  const model = MODELS.get(row.tx_name);
  if (!model || !payload.record) return { ...payload };
  const hidden: string[] = [];
  let record = payload.record;
  if (row.schema_version < SCHEMA_VERSION && Object.keys(record).length > 0) {
    // Written by an older app version: shown as this version reads it (the consumer applies the same upcast).
    try {
      record = upcast(row.tx_name as TxName, record, row.schema_version, SCHEMA_VERSION);
    } catch {
      // Shown as written; the consumer records why it cannot be read.
    }
  }
  const plain = Object.keys(record).length ? new Study(store).decrypted(row.tx_name as TxName, record, hidden) : {};
  const history = payload.history ? readableHistory(store, model, payload.history, hidden) : null;
  // `protected`: the fields a middleman's carrier key set cannot read (null in `record` and in the changes); the
  // screen says "protected".
  return { record: toJs(model, plain), history, protected: hidden.map((c) => model.bySql.get(c)!.js) };
}

/**
 * An update's changes ({column: [before, after]}) by field name, personal data decrypted and lookup hashes left out.
 * A carrier key set cannot decrypt: those columns come back null and are added to `hidden`.
 */
function readableHistory(store: Store, model: NonNullable<ReturnType<typeof MODELS.get>>, history: unknown, hidden: string[]): unknown {
  const h = history as { changes?: Record<string, [unknown, unknown]> };
  if (!h.changes) return history;
  const keys = store.requireKeys();
  const changes: Record<string, [unknown, unknown]> = {};
  for (const [col, [before, after]] of Object.entries(h.changes)) {
    if (model.pii.some((p) => p.hashSql === col)) continue;
    const pii = model.pii.find((p) => p.sql === col);
    if (pii && !keys.canReadPii) {
      if (!hidden.includes(pii.sql)) hidden.push(pii.sql);
      changes[pii.js] = [null, null];
      continue;
    }
    const open = (v: unknown) => (pii && typeof v === 'string' ? keys.decryptField(pii.sql, v) : v);
    changes[model.bySql.get(col)?.js ?? col] = [open(before), open(after)];
  }
  return { ...h, changes };
}
