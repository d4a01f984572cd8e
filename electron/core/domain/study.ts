/**
 * Study operations on top of the write path: identifiers are allocated here (per-device counters kept in
 * device_state, in the same transaction as the insert), PII is decrypted for authorised reads.
 */
import type { ModelInput, TxName } from '../../../shared/domain.ts';
import { EdcError } from '../../../shared/errors.ts';
import { requisitionIdentifier, subjectIdentifier } from '../../../shared/identifiers.ts';
import type { RawRow } from '../envelope.ts';
import { subject } from '../db/schema.ts';
import { rowsOf, shaped } from '../db/typed.ts';
import { recordRow } from '../row-shapes.ts';
import type { Store } from '../store.ts';
import { WritePath, type Actor } from '../write-path.ts';
import { MODELS } from './registry.ts';

export type SubjectRegistration = Omit<ModelInput<'edc.subject'>, 'subjectIdentifier'>;
export type RequisitionInput = Omit<ModelInput<'edc.specimen_requisition'>, 'requisitionIdentifier'>;

export class Study {
  readonly write: WritePath;

  constructor(private readonly store: Store) {
    this.write = new WritePath(store);
  }

  registerSubject(input: SubjectRegistration, actor: Actor): RawRow {
    return this.write.batch(() => {
      const n = this.nextCounter('subject');
      return this.write.insert('edc.subject', { ...input, subjectIdentifier: subjectIdentifier(this.store.settings.siteCode, this.store.deviceId, n) }, actor);
    });
  }

  requisition(input: RequisitionInput, actor: Actor): RawRow {
    return this.write.batch(() => {
      const n = this.nextCounter('requisition');
      return this.write.insert('edc.specimen_requisition', { ...input, requisitionIdentifier: requisitionIdentifier(this.store.deviceId, n) }, actor);
    });
  }

  /** A specimen reconciliation record (identifier R-<DEVICE>-<n>), written and synced like any other change. */
  reconcile(input: Omit<ModelInput<'edc.specimen_reconciliation'>, 'reconciliationIdentifier'>, actor: Actor): RawRow {
    return this.write.batch(() => {
      const n = this.nextCounter('reconciliation');
      return this.write.insert('edc.specimen_reconciliation', { ...input, reconciliationIdentifier: `R-${this.store.deviceId.toUpperCase()}-${n}` }, actor);
    });
  }

  /** A custody record (identifier C-<DEVICE>-<n>): one hand-over of tubes, written and synced like any other change. */
  custody(
    input: Omit<ModelInput<'edc.specimen_custody'>, 'custodyIdentifier'>,
    actor: Actor,
    /** Signs the finished record (it needs the identifier): the receiver's receipt signature. */
    sign?: (record: ModelInput<'edc.specimen_custody'>) => Pick<ModelInput<'edc.specimen_custody'>, 'receiptKey' | 'receiptSig'>,
  ): RawRow {
    return this.write.batch(() => {
      const n = this.nextCounter('custody');
      const record = { ...input, custodyIdentifier: `C-${this.store.deviceId.toUpperCase()}-${n}` };
      return this.write.insert('edc.specimen_custody', sign ? { ...record, ...sign(record) } : record, actor);
    });
  }

  /** Exact lookup through the keyed hash: the database never sees the plaintext. */
  findSubjectsByIdentityNumber(identityNumber: string): RawRow[] {
    const hash = this.store.requireKeys().lookupHash('identity_number', identityNumber);
    const rows = rowsOf(this.store.sql, subject, 'SELECT * FROM subject WHERE identity_number_hash = ?').all(hash);
    return rows.map((r) => this.decrypted('edc.subject', r));
  }

  get(txName: TxName, id: string): RawRow | undefined {
    const model = MODELS.get(txName)!;
    const row = shaped(this.store.sql, recordRow, `SELECT * FROM "${model.tableName}" WHERE id = ?`).get(id);
    return row && this.decrypted(txName, row);
  }

  /**
   * A stored row with its PII columns decrypted (hash columns dropped). With a middleman's carrier key set the PII
   * columns cannot be read: they come back null and their SQL names are added to `protectedOut` (screens say
   * "protected"); the ciphertext never leaves the store.
   */
  decrypted(txName: TxName, row: RawRow, protectedOut?: string[]): RawRow {
    const model = MODELS.get(txName)!;
    if (model.pii.length === 0) return row;
    const keys = this.store.requireKeys();
    const out: RawRow = { ...row };
    for (const p of model.pii) {
      const v = row[p.sql];
      if (typeof v === 'string' && !keys.canReadPii) {
        out[p.sql] = null;
        if (protectedOut && !protectedOut.includes(p.sql)) protectedOut.push(p.sql);
      } else out[p.sql] = typeof v === 'string' ? keys.decryptField(p.sql, v) : null;
      delete out[p.hashSql];
    }
    return out;
  }

  private nextCounter(name: string): number {
    const key = `counter:${name}`;
    const current = Number(this.store.getState(key) ?? '0');
    if (!Number.isSafeInteger(current)) throw new EdcError('STORE_CORRUPT', `device_state ${key} is not a number`);
    this.store.setState(key, String(current + 1));
    return current + 1;
  }
}
