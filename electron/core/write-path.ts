/**
 * The one write path. Every insert, update and delete of a synced model writes, in one SQLite transaction:
 * the row, an audit-history row and (unless allowModelSerialization is false) an outgoing_transaction whose
 * payload is AES-256-GCM ciphertext, with the next gap-free producerSeq. The tables refuse any other writer
 * (triggers in migration 0001 check the guard that only Store.guarded opens).
 */
import { uuidv7 } from './ids.ts';
import { deviceNowIso } from './clock.ts';
import { z } from 'zod';
import type { ModelInput, TxName } from '../../shared/domain.ts';
import type { Action, Payload } from '../../shared/envelope.ts';
import { EdcError } from '../../shared/errors.ts';
import { MODELS, SCHEMA_VERSION, type Model } from './domain/registry.ts';
import { envelopeAad, envelopeSignedBytes, type RawRow, type RawValue } from './envelope.ts';
import { dbFault, type Query } from './db/port.ts';
import { typedStatements } from './db/typed.ts';
import { recordRow } from './row-shapes.ts';
import type { Store } from './store.ts';

export interface Actor {
  /** Who made the change: the logged-in user, or the OS user for the CLI. */
  user: string;
}

type Changes = Record<string, [RawValue, RawValue]>;

export interface ChangeOptions {
  /** Why the change was made (a corrected draw time, a corrected or deleted record): kept in the audit history and sent with the change. */
  reason?: string;
}

const nextSeqRow = z.object({ seq: z.number() });

export class WritePath {
  private readonly q: ReturnType<typeof typedStatements>;
  /** Statements whose rows nobody reads (writes). */
  private readonly stmt: (key: string, sql: () => string) => Query;
  private readonly partials = new Map<string, z.ZodType>();

  constructor(private readonly store: Store) {
    this.q = typedStatements(store.sql);
    this.stmt = this.q.write;
  }

  /** Run several writes in one SQLite transaction (all or nothing). */
  batch<T>(fn: () => T): T {
    return this.store.guarded(fn);
  }

  insert<K extends TxName>(txName: K, input: ModelInput<K>, actor: Actor): RawRow {
    const model = this.model(txName);
    const values = this.validate(model, model.input, input);
    return this.store.guarded(() => {
      const now = deviceNowIso(this.store);
      const row: RawRow = {
        id: uuidv7(), created: now, modified: now, user_created: actor.user, user_modified: actor.user,
        hostname_created: this.store.hostname, hostname_modified: this.store.hostname, device_id: this.store.deviceId, revision: 1,
      };
      Object.assign(row, this.toStored(model, values));
      for (const c of model.columns) if (!(c.sql in row)) row[c.sql] = null;
      this.run(model, 'I', () => this.stmt(`ins:${model.txName}`, () => insertSql(model)).run(model.columns.map((c) => row[c.sql])));
      const changes: Changes = {};
      for (const c of model.columns) changes[c.sql] = [null, row[c.sql]!];
      this.record(model, 'I', row, 0, changes, actor, now);
      return row;
    });
  }

  update<K extends TxName>(txName: K, id: string, patch: Partial<ModelInput<K>>, actor: Actor, opts: ChangeOptions = {}): RawRow {
    const model = this.model(txName);
    let partial = this.partials.get(txName);
    if (!partial) {
      partial = (model.input as z.ZodObject).partial().strict();
      this.partials.set(txName, partial);
    }
    const values = this.validate(model, partial, patch);
    return this.store.guarded(() => {
      const current = this.current(model, id);
      const stored = this.toStored(model, values);
      const changes: Changes = {};
      for (const [col, value] of Object.entries(stored)) {
        if (model.pii.some((p) => p.sql === col)) continue; // compared through the hash below
        if (current[col] !== value) changes[col] = [current[col] ?? null, value];
      }
      for (const p of model.pii) {
        if (p.hashSql in stored && stored[p.hashSql] !== current[p.hashSql]) changes[p.sql] = [current[p.sql] ?? null, stored[p.sql] ?? null];
      }
      if (Object.keys(changes).length === 0) return current; // nothing changed: no history, no transaction
      const now = deviceNowIso(this.store);
      const baseRevision = Number(current.revision);
      const next: RawRow = { ...current };
      for (const [col, [, value]] of Object.entries(changes)) next[col] = value;
      Object.assign(next, { modified: now, user_modified: actor.user, hostname_modified: this.store.hostname, revision: baseRevision + 1 });
      changes.revision = [baseRevision, baseRevision + 1];
      const res = this.run(model, 'U', () => this.stmt(`upd:${model.txName}`, () => updateSql(model))
        .run([...model.columns.filter((c) => c.sql !== 'id').map((c) => next[c.sql]), id, baseRevision]));
      if (res.changes !== 1) throw new EdcError('RECORD_NOT_FOUND', `${txName} ${id} changed while it was being updated`);
      this.record(model, 'U', next, baseRevision, changes, actor, now, opts.reason);
      return next;
    });
  }

  delete(txName: TxName, id: string, actor: Actor, opts: ChangeOptions = {}): void {
    const model = this.model(txName);
    this.store.guarded(() => {
      const current = this.current(model, id);
      this.run(model, 'D', () => this.stmt(`del:${model.txName}`, () => `DELETE FROM "${model.tableName}" WHERE id = ?`).run(id));
      const changes: Changes = {};
      for (const c of model.columns) changes[c.sql] = [current[c.sql] ?? null, null];
      this.record(model, 'D', current, Number(current.revision), changes, actor, deviceNowIso(this.store), opts.reason);
    });
  }

  /** Audit-history row, and the outgoing transaction carrying row + history, encrypted. */
  private record(model: Model, action: Action, row: RawRow, baseRevision: number, changes: Changes, actor: Actor, at: string, reason?: string): void {
    const historyId = uuidv7();
    const serialize = this.store.settings.allowModelSerialization;
    const txId = serialize ? uuidv7() : null;
    this.stmt('history', () => 'INSERT INTO audit_history (id, tx_name, record_id, action, revision, changes, "user", hostname, device_id, at, transaction_id, reason) VALUES (?,?,?,?,?,?,?,?,?,?,?,?)')
      .run(historyId, model.txName, row.id, action, action === 'D' ? baseRevision : Number(row.revision), JSON.stringify(changes), actor.user, this.store.hostname, this.store.deviceId, at, txId, reason ?? null);
    if (!txId) return;
    const keys = this.store.requireKeys();
    const producer = this.store.deviceId;
    const seqRow = this.q.shaped('seq', nextSeqRow, () => 'SELECT coalesce(max(producer_seq), 0) + 1 AS seq FROM outgoing_transaction WHERE producer = ?').get(producer)!;
    const history: Payload['history'] = { id: historyId, user: actor.user, hostname: this.store.hostname, at };
    if (action === 'U') history.changes = changes; // derivable from record for I and D: not sent twice
    if (reason) history.reason = reason;
    const payload: Payload = { v: 1, record: row, baseRevision, history };
    const env = { id: txId, producer, producer_seq: seqRow.seq, tx_name: model.txName, tx_pk: String(row.id), action, schema_version: SCHEMA_VERSION };
    const { keyId, blob } = keys.encrypt(Buffer.from(JSON.stringify(payload)), envelopeAad(env));
    // Signed by this device over every envelope field and the ciphertext: receivers verify it under the key
    // they hold for this producer, whoever carries the envelope.
    const sig = this.store.signingKey.sign(envelopeSignedBytes({ ...env, timestamp: at, key_id: keyId, tx: blob }));
    this.stmt('outgoing', () => 'INSERT INTO outgoing_transaction (id, producer, producer_seq, tx_name, tx_pk, action, timestamp, schema_version, key_id, tx, sig) VALUES (?,?,?,?,?,?,?,?,?,?,?)')
      .run(env.id, producer, env.producer_seq, env.tx_name, env.tx_pk, action, at, SCHEMA_VERSION, keyId, blob, sig);
  }

  private model(txName: string): Model {
    const model = MODELS.get(txName);
    if (!model) throw new EdcError('MODEL_UNKNOWN', txName);
    return model;
  }

  private validate(model: Model, schema: z.ZodType, input: unknown): Record<string, unknown> {
    const parsed = schema.safeParse(input);
    if (!parsed.success) {
      const issue = parsed.error.issues[0];
      throw new EdcError('RECORD_INVALID', `${model.txName}.${issue?.path.join('.') ?? ''}: ${issue?.message ?? 'invalid'}`);
    }
    return parsed.data as Record<string, unknown>;
  }

  /** Input (JS names, plaintext) → stored columns (SQL names; PII as ciphertext plus lookup hash). */
  private toStored(model: Model, values: Record<string, unknown>): RawRow {
    const out: RawRow = {};
    for (const [js, value] of Object.entries(values)) {
      const pii = model.pii.find((p) => p.js === js);
      if (pii) {
        const keys = this.store.requireKeys();
        const text = value === null || value === undefined ? null : String(value);
        out[pii.sql] = text === null ? null : keys.encryptField(pii.sql, text);
        out[pii.hashSql] = text === null ? null : keys.lookupHash(pii.sql, text);
        continue;
      }
      const col = model.byJs.get(js)!;
      out[col.sql] = col.toDriver(value) as RawValue;
    }
    return out;
  }

  private current(model: Model, id: string): RawRow {
    const row = this.q.shaped(`get:${model.txName}`, recordRow, () => `SELECT * FROM "${model.tableName}" WHERE id = ?`).get(id);
    if (!row) throw new EdcError('RECORD_NOT_FOUND', `${model.txName} ${id}`);
    return row;
  }

  private run<T>(model: Model, action: Action, fn: () => T): T {
    try {
      return fn();
    } catch (e) {
      throw mapDbError(e, model, action);
    }
  }
}

export function insertSql(model: Model): string {
  return `INSERT INTO "${model.tableName}" (${model.columns.map((c) => `"${c.sql}"`).join(', ')}) VALUES (${model.columns.map(() => '?').join(', ')})`;
}

export function updateSql(model: Model): string {
  const sets = model.columns.filter((c) => c.sql !== 'id').map((c) => `"${c.sql}" = ?`).join(', ');
  return `UPDATE "${model.tableName}" SET ${sets} WHERE id = ? AND revision = ?`;
}

/** Constraint errors (either database) → the closed error set, with the model named. */
export function mapDbError(e: unknown, model: Model, action: Action): unknown {
  const fault = dbFault(e);
  const msg = (e as Error).message ?? '';
  if (fault === 'unique') {
    return new EdcError('NATURAL_KEY_TAKEN', `${model.txName} (${model.naturalKeySql.join(', ')})`, { cause: e });
  }
  if (fault === 'foreign-key') {
    return action === 'D'
      ? new EdcError('HAS_CHILDREN', `${model.txName}`, { cause: e })
      : new EdcError('RECORD_INVALID', `${model.txName}: the parent record does not exist`, { cause: e });
  }
  if (msg.startsWith('WRITE_OUTSIDE_PATH')) return new EdcError('WRITE_OUTSIDE_PATH', msg, { cause: e });
  return e;
}
