/** Envelope helpers shared by the write path (producer side) and the consumer. */
import type { Action, WireEnvelope } from '../../shared/envelope.ts';
import { signedBytes, verifySignature } from './crypto/device-key.ts';

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
  /** Producer's signature (envelopeSignedBytes); null for envelopes made before devices signed. */
  sig: string | null;
}

/**
 * Additional authenticated data: binds a ciphertext to its envelope, so a payload moved to another envelope
 * (other id, producer, sequence, model, record or action) fails authentication like any other tampering.
 */
export function envelopeAad(e: Pick<EnvelopeRow, 'id' | 'producer' | 'producer_seq' | 'tx_name' | 'tx_pk' | 'action' | 'schema_version'>): Buffer {
  return Buffer.from(`edc-sync/1|${e.id}|${e.producer}|${e.producer_seq}|${e.tx_name}|${e.tx_pk}|${e.action}|${e.schema_version}`);
}

/**
 * What the producer signs: every envelope field (the timestamp included, which the AAD of schema-1 envelopes does
 * not cover) and the ciphertext bytes, length-prefixed under the domain tag `edc-envelope/1`. The AAD stays as it
 * was, so every envelope made before signing still decrypts; the signature is what binds the timestamp.
 */
export function envelopeSignedBytes(e: Omit<EnvelopeRow, 'sig'>): Buffer {
  return signedBytes('edc-envelope/1', [e.id, e.producer, e.producer_seq, e.tx_name, e.tx_pk, e.action, e.timestamp, e.schema_version, e.key_id, e.tx]);
}

/** Whether a wire envelope's signature verifies under the producer's public key (false when it has none). */
export function wireSignatureValid(e: WireEnvelope, publicKey: string): boolean {
  if (!e.sig) return false;
  return verifySignature(publicKey, envelopeSignedBytes(fromWireFields(e)), e.sig);
}

function fromWireFields(e: WireEnvelope): Omit<EnvelopeRow, 'sig'> {
  return {
    id: e.id, producer: e.producer, producer_seq: e.producerSeq, tx_name: e.txName, tx_pk: e.txPk, action: e.action,
    timestamp: e.timestamp, schema_version: e.schemaVersion, key_id: e.keyId, tx: Buffer.from(e.tx, 'base64'),
  };
}

/** Stored envelope → the form that travels (REST body, file line): `tx` as base64, `sig` unchanged when present. */
export function toWire(row: EnvelopeRow): WireEnvelope {
  const wire: WireEnvelope = {
    id: row.id, producer: row.producer, producerSeq: row.producer_seq, txName: row.tx_name, txPk: row.tx_pk, action: row.action,
    timestamp: row.timestamp, schemaVersion: row.schema_version, keyId: row.key_id, tx: row.tx.toString('base64'),
  };
  if (row.sig) wire.sig = row.sig;
  return wire;
}
