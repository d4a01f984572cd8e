/** Envelope helpers shared by the write path (producer side) and the consumer. */
import type { Action, WireEnvelope } from '../../shared/envelope.ts';

export type RawValue = string | number | null;
export type RawRow = Record<string, RawValue>;

/** The envelope columns common to outgoing_transaction and incoming_transaction (stored form: tx is a Buffer). */
export interface EnvelopeRow {
  id: string;
  producer: string;
  producer_seq: number;
  tx_name: string;
  tx_pk: string;
  action: Action;
  timestamp: string;
  schema_version: number;
  key_id: string;
  tx: Buffer;
}

/**
 * Additional authenticated data: binds a ciphertext to its envelope, so a payload moved to another envelope
 * (other id, producer, sequence, model, record or action) fails authentication like any other tampering.
 */
export function envelopeAad(e: Pick<EnvelopeRow, 'id' | 'producer' | 'producer_seq' | 'tx_name' | 'tx_pk' | 'action' | 'schema_version'>): Buffer {
  return Buffer.from(`edc-sync/1|${e.id}|${e.producer}|${e.producer_seq}|${e.tx_name}|${e.tx_pk}|${e.action}|${e.schema_version}`);
}

/** Stored envelope → the form that travels (REST body, file line): `tx` as base64. */
export function toWire(row: EnvelopeRow): WireEnvelope {
  return {
    id: row.id, producer: row.producer, producerSeq: row.producer_seq, txName: row.tx_name, txPk: row.tx_pk, action: row.action,
    timestamp: row.timestamp, schemaVersion: row.schema_version, keyId: row.key_id, tx: row.tx.toString('base64'),
  };
}
