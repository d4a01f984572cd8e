/**
 * The signed chain of custody of specimen tubes (issue 13): who held which tube when, provable later.
 *
 * Every hand-over is stated twice, each statement signed with the stating device's own Ed25519 key
 * (core/crypto/device-key.ts), never with the study's shared keys:
 * - the giver's statement (`edc-custody-handover/1`): kind, giver, receiver (null when not known yet), the giver's
 *   clock at the hand-over, and the tubes it hands over. At a pull the field laptop makes it live (share endpoint
 *   `POST /share/v1/handover`) and the middleman keeps it inside its custody record; when the driver pushes at the
 *   site, the middleman writes it as an *offer* (a custody record with no receiver yet).
 * - the receiver's statement (`edc-custody-receipt/1`): the whole record as received: identifier, kind, giver,
 *   receiver, scope, both times, the giver's statement and signature, what was scanned (matched / missing /
 *   unexpected) and a reason for each tube that did not match.
 * The JSON texts of the lists are signed exactly as stored; lists are canonical (sorted, no duplicates), so the two
 * sides build the same bytes. Records sync like any other change, so they reach the site and central with the
 * rest, and the chain verifies wherever they are.
 *
 * Keys: a signature is checked under the key the record names, and that key must be the device's key on record
 * here when this device knows one (the site's paired devices, a middleman's laptops); a record naming another key
 * is invalid. Central has no device list yet: there the records' own keys are used, and each device must use one
 * key across all its records.
 *
 * The chain of one tube starts at the laptop that drew it (the requisition's device) and follows the receipts that
 * took it in: each hop needs the giver's statement listing the tube and the receiver's signed receipt. A receipt
 * from a device that never received the tube is a hole; a signature that does not verify (an altered record, a
 * forged one) flags the chain; a hop without a giver's statement (an app from before signed custody) is unsigned.
 */
import { z } from 'zod';
import { shareHandoverSchema } from '../../shared/api.ts';
import type { ChainFlag, ChainStep, CustodyKind, TubeChain, Verdict } from '../../shared/custody.ts';
import { EdcError } from '../../shared/errors.ts';
import { signedBytes, verifySignature } from './crypto/device-key.ts';
import { deviceNowIso } from './clock.ts';
import { specimenCustody } from './db/schema.ts';
import { rowsOf, shaped, type SqlRow } from './db/typed.ts';
import { Study } from './domain/study.ts';
import { peerKey } from './peer-keys.ts';
import { idRow } from './row-shapes.ts';
import { parseList } from './specimens.ts';
import type { Store } from './store.ts';
import type { Actor } from './write-path.ts';

export const HANDOVER_DOMAIN = 'edc-custody-handover/1';
export const RECEIPT_DOMAIN = 'edc-custody-receipt/1';


/** The canonical JSON text of a list of tube identifiers: sorted, each once. */
export function canonicalTubes(tubes: Iterable<string>): string {
  return JSON.stringify([...new Set(tubes)].sort());
}

/** The canonical JSON text of the reasons: keys sorted. */
export function canonicalReasons(reasons: Record<string, { reason: string; note: string }>): string {
  return JSON.stringify(Object.fromEntries(Object.keys(reasons).sort().map((k) => [k, { reason: reasons[k]!.reason, note: reasons[k]!.note }])));
}

export interface HandoverStatement {
  kind: CustodyKind;
  fromDevice: string;
  toDevice: string | null;
  handedAt: string;
  /** canonicalTubes(...) */
  tubes: string;
}

export interface SignedHandover extends HandoverStatement {
  handoverKey: string;
  handoverSig: string;
}

export function handoverBytes(s: HandoverStatement): Buffer {
  return signedBytes(HANDOVER_DOMAIN, [s.kind, s.fromDevice, s.toDevice, s.handedAt, s.tubes]);
}

/** This device states what it hands over, at its clock, and signs it. */
export function signHandover(store: Store, s: Omit<HandoverStatement, 'fromDevice' | 'handedAt'> & { handedAt?: string }): SignedHandover {
  const statement: HandoverStatement = { kind: s.kind, fromDevice: store.deviceId, toDevice: s.toDevice, handedAt: s.handedAt ?? deviceNowIso(store), tubes: s.tubes };
  return { ...statement, handoverKey: store.signingKey.publicKey, handoverSig: store.signingKey.sign(handoverBytes(statement)) };
}

/** The columns of a custody record the chain reads, as stored (snake_case, as the table holds them). */
export type CustodyRow = Pick<SqlRow<typeof specimenCustody>, 'custody_identifier' | 'kind' | 'from_device' | 'to_device' | 'scope' | 'handed_at' | 'tubes'
  | 'handover_key' | 'handover_sig' | 'received_at' | 'matched' | 'missing' | 'unexpected' | 'reasons' | 'receipt_key' | 'receipt_sig' | 'device_id'>;

// Projections, checked where they are read (db/typed.ts).
const drawnRow = z.object({ requisition_identifier: z.string(), device_id: z.string(), drawn_datetime: z.string() });
const heldRow = z.object({ matched: z.string().nullable(), unexpected: z.string().nullable() });
const tubesRow = z.object({ tubes: z.string() });

export interface ReceiptFields {
  custodyIdentifier: string;
  kind: CustodyKind;
  fromDevice: string;
  toDevice: string;
  scope: string;
  handedAt: string;
  tubes: string;
  handoverKey: string | null;
  handoverSig: string | null;
  receivedAt: string;
  matched: string;
  missing: string;
  unexpected: string;
  reasons: string;
}

export function receiptBytes(r: ReceiptFields): Buffer {
  return signedBytes(RECEIPT_DOMAIN, [r.custodyIdentifier, r.kind, r.fromDevice, r.toDevice, r.scope, r.handedAt, r.tubes,
    r.handoverKey, r.handoverSig, r.receivedAt, r.matched, r.missing, r.unexpected, r.reasons]);
}

export function signReceipt(store: Store, r: ReceiptFields): { receiptKey: string; receiptSig: string } {
  if (r.toDevice !== store.deviceId) throw new EdcError('INPUT_INVALID', `a receipt is signed by its receiver (${r.toDevice}), not by ${store.deviceId}`);
  return { receiptKey: store.signingKey.publicKey, receiptSig: store.signingKey.sign(receiptBytes(r)) };
}

// ---- verification --------------------------------------------------------------------------------------------



export interface RecordVerdict {
  handover: Verdict;
  receipt: Verdict;
}

/**
 * Checks both statements of one record. `keyOf` is the key on record for a device (null: unknown here, the record's
 * own key is used; `firstKey` then holds each device to the first key seen for it).
 */
export function verifyRecord(r: CustodyRow, keyOf: (deviceId: string) => string | null, firstKey?: Map<string, string>): RecordVerdict {
  const keyFits = (device: string, key: string): boolean => {
    const known = keyOf(device);
    if (known) return known === key;
    if (!firstKey) return true;
    const first = firstKey.get(device);
    if (!first) firstKey.set(device, key);
    return !first || first === key;
  };
  let handover: Verdict = 'unsigned';
  if (r.handover_sig || r.handover_key) {
    handover = r.handover_sig && r.handover_key && keyFits(r.from_device, r.handover_key)
      && verifySignature(r.handover_key, handoverBytes({ kind: r.kind, fromDevice: r.from_device, toDevice: r.kind === 'pull' ? r.to_device : null, handedAt: r.handed_at, tubes: r.tubes }), r.handover_sig)
      ? 'valid' : 'invalid';
  }
  let receipt: Verdict = 'unsigned';
  if (r.receipt_sig || r.receipt_key) {
    receipt = r.receipt_sig && r.receipt_key && r.to_device && r.received_at && keyFits(r.to_device, r.receipt_key)
      && verifySignature(r.receipt_key, receiptBytes({
        custodyIdentifier: r.custody_identifier, kind: r.kind, fromDevice: r.from_device, toDevice: r.to_device, scope: r.scope,
        handedAt: r.handed_at, tubes: r.tubes, handoverKey: r.handover_key, handoverSig: r.handover_sig, receivedAt: r.received_at,
        matched: r.matched ?? '[]', missing: r.missing ?? '[]', unexpected: r.unexpected ?? '[]', reasons: r.reasons ?? '{}',
      }), r.receipt_sig)
      ? 'valid' : 'invalid';
  }
  return { handover, receipt };
}

// ---- the chain of one tube -----------------------------------------------------------------------------------

const reasonsOf = (s: string | null): Record<string, { reason: string; note: string }> => {
  if (!s) return {};
  try {
    const v: unknown = JSON.parse(s);
    return v && typeof v === 'object' && !Array.isArray(v) ? v as Record<string, { reason: string; note: string }> : {};
  } catch {
    return {};
  }
};

interface Parsed {
  row: CustodyRow;
  verdict: RecordVerdict;
  tubes: Set<string>;
  matched: Set<string>;
  missing: Set<string>;
  unexpected: Set<string>;
  reasons: Record<string, { reason: string; note: string }>;
  isReceipt: boolean;
}

/** Whole rows (rowsOf: no check at run time, however many records the site holds). */
const CUSTODY_SELECT = 'SELECT * FROM specimen_custody';

/**
 * Every custody record of this store, each verified once; chains are then built in memory (a site holds one record
 * per hand-over, hundreds a month, and thousands of tubes: one pass, no query per tube).
 */
export class CustodyBook {
  private readonly records: Parsed[];
  private readonly byTube = new Map<string, Parsed[]>();
  private readonly drawn = new Map<string, { by: string; at: string }>();

  constructor(store: Store, opts: { tubes?: readonly string[] } = {}) {
    const keys = new Map<string, string | null>();
    const keyOf = (d: string) => {
      if (!keys.has(d)) keys.set(d, peerKey(store, d));
      return keys.get(d)!;
    };
    const firstKey = new Map<string, string>();
    const rows = rowsOf(store.sql, specimenCustody, `${CUSTODY_SELECT} ORDER BY received_at IS NULL, coalesce(received_at, handed_at), custody_identifier`).all();
    this.records = rows.map((row) => {
      const p: Parsed = {
        row, verdict: verifyRecord(row, keyOf, firstKey),
        tubes: new Set(parseList(row.tubes)), matched: new Set(parseList(row.matched)), missing: new Set(parseList(row.missing)),
        unexpected: new Set(parseList(row.unexpected)), reasons: reasonsOf(row.reasons),
        isReceipt: row.received_at !== null && row.to_device !== null,
      };
      for (const t of new Set([...p.tubes, ...p.matched, ...p.missing, ...p.unexpected])) {
        const list = this.byTube.get(t);
        if (list) list.push(p); else this.byTube.set(t, [p]);
      }
      return p;
    });
    // One tube looked up: its requisition by the natural-key index, not every requisition of the site.
    const drawnRows = opts.tubes
      ? opts.tubes.flatMap((t) => shaped(store.sql, drawnRow, 'SELECT requisition_identifier, device_id, drawn_datetime FROM specimen_requisition WHERE requisition_identifier = ?').all(t))
      : shaped(store.sql, drawnRow, 'SELECT requisition_identifier, device_id, drawn_datetime FROM specimen_requisition').all();
    for (const r of drawnRows) this.drawn.set(r.requisition_identifier, { by: r.device_id, at: r.drawn_datetime });
  }

  /** Tubes that appear in any custody record or were requisitioned here. */
  tubes(): string[] {
    return [...new Set([...this.drawn.keys(), ...this.byTube.keys()])].sort();
  }

  get recordCount(): number {
    return this.records.length;
  }

  chain(tube: string): TubeChain {
    const drawn = this.drawn.get(tube) ?? null;
    const related = this.byTube.get(tube) ?? [];
    const flags = new Set<ChainFlag>();
    for (const p of related) if (p.verdict.handover === 'invalid' || p.verdict.receipt === 'invalid') flags.add('bad-signature');
    const takenIn = related.filter((p) => p.isReceipt && (p.matched.has(tube) || p.unexpected.has(tube)));
    const missedAt = related.filter((p) => p.isReceipt && p.missing.has(tube));
    const offers = related.filter((p) => !p.isReceipt && p.tubes.has(tube) && p.row.handover_sig);
    const steps: ChainStep[] = [];
    let holder: string | null = drawn?.by ?? null;
    const remaining = [...takenIn];
    while (remaining.length) {
      let i = remaining.findIndex((p) => p.row.from_device === holder);
      let hole = false;
      if (i < 0 && holder === null) {
        // A tube no requisition here names (drawn on a laptop unknown here): its chain starts where it was first seen.
        i = remaining.findIndex((p) => !remaining.some((o) => o !== p && o.row.to_device === p.row.from_device));
        if (i < 0) i = 0;
      } else if (i < 0) {
        hole = true;
        // The next hop is one whose giver no other remaining receipt delivers to (the earliest link left).
        i = remaining.findIndex((p) => !remaining.some((o) => o !== p && o.row.to_device === p.row.from_device));
        if (i < 0) i = 0;
      }
      const p = remaining.splice(i, 1)[0]!;
      steps.push(this.step(p, tube, offers, hole));
      holder = p.row.to_device;
    }
    for (const p of missedAt) steps.push(this.step(p, tube, offers, false));
    for (const s of steps) {
      if (s.hole) flags.add('hole');
      if (s.outcome !== 'missing' && (s.handover === 'unsigned' || s.receipt === 'unsigned')) flags.add('unsigned');
      if (s.outcome === 'missing') flags.add('missing');
    }
    // Steps in the order they happened along the chain; a missing outcome sits where it was recorded.
    steps.sort((a, b) => (a.outcome === 'missing' ? 1 : 0) - (b.outcome === 'missing' ? 1 : 0));
    return { tube, drawnBy: drawn?.by ?? null, drawnAt: drawn?.at ?? null, steps, holder: takenIn.length ? holder : drawn?.by ?? null, flags: [...flags].sort() };
  }

  private step(p: Parsed, tube: string, offers: Parsed[], hole: boolean): ChainStep {
    const outcome = p.matched.has(tube) ? 'matched' : p.unexpected.has(tube) ? 'unexpected' : 'missing';
    // The giver's statement: inside the record (a pull), else the giver's own offer listing this tube.
    let handover: Verdict = 'unsigned';
    if (p.row.handover_sig && p.tubes.has(tube)) handover = p.verdict.handover;
    else {
      const offer = offers.find((o) => o.row.from_device === p.row.from_device);
      if (offer) handover = offer.verdict.handover;
      else if (p.row.handover_sig && p.verdict.handover === 'invalid') handover = 'invalid';
    }
    return {
      custodyIdentifier: p.row.custody_identifier, kind: p.row.kind, from: p.row.from_device, to: p.row.to_device!,
      handedAt: p.row.handed_at, receivedAt: p.row.received_at!, outcome, reason: p.reasons[tube] ?? null,
      handover, receipt: p.verdict.receipt, hole,
    };
  }
}

/** Tubes whose chain needs a look (a bad signature or a hole first), paged. */
export function flaggedChains(store: Store, opts: { page: number; pageSize: number; include?: readonly ChainFlag[] }): { rows: TubeChain[]; total: number; records: number } {
  const book = new CustodyBook(store);
  const include = new Set<ChainFlag>(opts.include ?? ['bad-signature', 'hole']);
  const rank = (c: TubeChain) => (c.flags.includes('bad-signature') ? 0 : c.flags.includes('hole') ? 1 : 2);
  const flagged = book.tubes().map((t) => book.chain(t)).filter((c) => c.flags.some((f) => include.has(f)))
    .sort((a, b) => rank(a) - rank(b) || a.tube.localeCompare(b.tube));
  return { rows: flagged.slice(opts.page * opts.pageSize, (opts.page + 1) * opts.pageSize), total: flagged.length, records: book.recordCount };
}

// ---- statements this device makes

/** Middleman: device_state key under which a pull's batch keeps the laptop's signed statement. */
export const PULL_HANDOVER_STATE = 'pullHandover:';

/** The laptop's statement at a pull, if it is the laptop's own (its key, this middleman, a valid signature). */
export function verifiedPullHandover(s: SignedHandover, expect: { laptop: string; laptopKey: string; middleman: string }): SignedHandover | null {
  if (s.kind !== 'pull' || s.fromDevice !== expect.laptop || s.toDevice !== expect.middleman || s.handoverKey !== expect.laptopKey) return null;
  if (s.tubes !== canonicalTubes(parseList(s.tubes))) return null;
  return verifySignature(s.handoverKey, handoverBytes(s), s.handoverSig) ? s : null;
}

/** A pull's statement kept at the pull (null for pulls from older laptops, or before signed custody). */
export function pullHandoverOf(store: Store, batchId: string): SignedHandover | null {
  return store.getStateJson(`${PULL_HANDOVER_STATE}${batchId}`, shareHandoverSchema);
}

/**
 * Field laptop, at the end of a pull: the tubes among its own transactions (after, upTo] (its requisitions made
 * in them), handed to `middleman`, signed.
 */
export function laptopHandover(store: Store, range: { after: number; upTo: number }, middleman: string): SignedHandover {
  const rows = shaped(store.sql, idRow, `SELECT r.requisition_identifier AS id FROM outgoing_transaction o JOIN specimen_requisition r ON r.id = o.tx_pk
      WHERE o.producer = ? AND o.producer_seq > ? AND o.producer_seq <= ? AND o.tx_name = 'edc.specimen_requisition' AND o.action = 'I'`)
    .all(store.deviceId, range.after, range.upTo);
  return signHandover(store, { kind: 'pull', toDevice: middleman, tubes: canonicalTubes(rows.map((r) => r.id)) });
}

/** Middleman at a push: the tubes it took in at its pulls and has not offered yet (what the driver brings the lab). */
export function tubesToOffer(store: Store): string[] {
  const held = new Set<string>();
  for (const r of shaped(store.sql, heldRow, "SELECT matched, unexpected FROM specimen_custody WHERE to_device = ? AND kind = 'pull'").all(store.deviceId)) {
    for (const t of [...parseList(r.matched), ...parseList(r.unexpected)]) held.add(t);
  }
  for (const r of shaped(store.sql, tubesRow, 'SELECT tubes FROM specimen_custody WHERE from_device = ? AND received_at IS NULL').all(store.deviceId)) {
    for (const t of parseList(r.tubes)) held.delete(t);
  }
  return [...held].sort();
}

/**
 * Middleman, when it pushes at the site: the driver states (and signs) the tubes it brings, as an offer record
 * (no receiver yet; the lab's reconciliation at the site receives it). Nothing is written when nothing is held.
 */
export function offerHeldTubes(store: Store, actor: Actor): string | null {
  if (store.role !== 'middleman') return null;
  const tubes = tubesToOffer(store);
  if (tubes.length === 0) return null;
  const statement = signHandover(store, { kind: 'delivery', toDevice: null, tubes: canonicalTubes(tubes) });
  const row = new Study(store).custody({
    kind: 'delivery', fromDevice: statement.fromDevice, toDevice: null, scope: JSON.stringify({ kind: 'offer' }),
    handedAt: statement.handedAt, tubes: statement.tubes, handoverKey: statement.handoverKey, handoverSig: statement.handoverSig,
    receivedAt: null, matched: null, missing: null, unexpected: null, reasons: null, receiptKey: null, receiptSig: null, reconciliationIdentifier: null,
  }, actor);
  return String(row.custody_identifier);
}
