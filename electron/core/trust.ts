/**
 * Who may write for a producer (docs/ARCHITECTURE.md, "Trust model"). At ingest, on every channel, an envelope is
 * checked against what this device knows about the producer it names, before anything is stored:
 * - a producer with a registered public key (paired with its key, or registered at its first contact after the
 *   upgrade): the envelope's signature must verify under that key; unsigned or forged envelopes are refused;
 * - a paired producer without a key yet (paired before devices had keys): unsigned (schema-1) envelopes are
 *   accepted and stay marked unsigned (incoming_transaction.sig is null);
 * - a revoked producer: refused;
 * - a producer this device does not know: refused on a site, whatever the channel (REST push, a middleman's forward,
 *   a file batch, a copy): every producer a site takes data from is a device paired with it. Elsewhere (a middleman
 *   pulling, central importing a site's files) the channel names the keys it learnt (`keys`: the share session's
 *   laptop key, the producers of a site's signed device list); an unknown producer there keeps the checks of its
 *   channel (knownProducers, the study's keys).
 * A refusal stores nothing, so the producer's sequence numbers stay free for the real device.
 */
import { z } from 'zod';
import type { WireEnvelope } from '../../shared/envelope.ts';
import { wireSignatureValid } from './envelope.ts';
import type { Store } from './store.ts';
import { shaped } from './db/typed.ts';

const standingRow = z.object({ revoked_at: z.string().nullable(), public_key: z.string().nullable() });

export type ProducerStanding =
  | { kind: 'key'; publicKey: string }
  | { kind: 'unsigned' }
  | { kind: 'revoked' }
  | { kind: 'unknown' };

export function producerStanding(store: Store, producer: string): ProducerStanding {
  const row = shaped(store.sql, standingRow, 'SELECT revoked_at, public_key FROM device WHERE device_id = ?').get(producer);
  if (!row) return { kind: 'unknown' };
  if (row.revoked_at) return { kind: 'revoked' };
  return row.public_key ? { kind: 'key', publicKey: row.public_key } : { kind: 'unsigned' };
}

export interface TrustOptions {
  /** Refuse producers this device has no record of. Always on for a site (every producer must be paired there). */
  requireKnownProducer?: boolean;
  /** Keys learnt for this exchange (a share session names the laptop's key); checked before the device table. */
  keys?: ReadonlyMap<string, string>;
}

/** Checks envelopes of one ingest call; standings are looked up once per producer. */
export class IngestTrust {
  private readonly standings = new Map<string, ProducerStanding>();
  private readonly requireKnown: boolean;
  constructor(private readonly store: Store, private readonly opts: TrustOptions = {}) {
    this.requireKnown = store.role === 'site' || opts.requireKnownProducer === true;
  }

  /** Null when the envelope may be stored, else the reason it is refused. */
  refusal(e: WireEnvelope): string | null {
    const standing = this.standing(e.producer);
    switch (standing.kind) {
      case 'key':
        if (wireSignatureValid(e, standing.publicKey)) return null;
        return e.sig
          ? `the signature does not verify under ${e.producer}'s device key (forged or altered); nothing stored`
          : `unsigned, but ${e.producer} has a registered device key; nothing stored`;
      case 'unsigned':
        return null;
      case 'revoked':
        return `${e.producer} is revoked on this server; nothing stored`;
      case 'unknown':
        return this.requireKnown ? unpairedReason(e.producer) : null;
      default: {
        const never: never = standing;
        return never;
      }
    }
  }

  private standing(producer: string): ProducerStanding {
    let s = this.standings.get(producer);
    if (!s) {
      const key = this.opts.keys?.get(producer);
      s = key ? { kind: 'key', publicKey: key } : producerStanding(this.store, producer);
      this.standings.set(producer, s);
    }
    return s;
  }
}

/** Why a site refuses a producer it never paired, with what to do. */
export function unpairedReason(producer: string): string {
  return `${producer} is not a device paired with this server; nothing of it stored (pair ${producer} with this server first, then send or copy its data again)`;
}
