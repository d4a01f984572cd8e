/**
 * The REST contract between devices and the site server (/api/v1) and between a middleman and a field laptop's
 * share endpoint (/share/v1). Every body is validated against these schemas where it enters.
 */
import { z } from 'zod';
import { deviceListSchema } from './device-list.ts';
import { ERROR_CODES } from './errors.ts';
import { wireEnvelopeSchema } from './envelope.ts';
import { holdingsSchema, producerStateSchema } from './fleet.ts';
import { deviceIdSchema, roleSchema } from './settings.ts';

/** Limits the server enforces (413 / 400 beyond them); clients batch well inside them. */
export const LIMITS = {
  /** Transactions in one push request. */
  maxBatchCount: 2000,
  /** Request body as sent (gzip or not). */
  maxBodyBytes: 16 * 1024 * 1024,
  /** Request body after gunzip (zip bombs stop here). */
  maxInflatedBytes: 32 * 1024 * 1024,
  /** What clients put in one batch. */
  clientBatchCount: 500,
  clientBatchBytes: 4 * 1024 * 1024,
  /** Request body (as sent and once inflated) of every route but push: pairing, share sessions, acks, app calls. */
  smallBodyBytes: 64 * 1024,
  /** POST /api/v1/contact: a middleman carries up to 500 laptops' states. */
  contactBodyBytes: 1024 * 1024,
  /** Failed authentications per address and minute before 429. */
  authFailuresPerMinute: 20,
} as const;

export const errorBodySchema = z.object({
  error: z.object({ code: z.enum(Object.keys(ERROR_CODES) as [keyof typeof ERROR_CODES, ...(keyof typeof ERROR_CODES)[]]), message: z.string() }),
});
export type ErrorBody = z.infer<typeof errorBodySchema>;

export const healthSchema = z.object({ status: z.literal('ok'), role: roleSchema, deviceId: z.string(), version: z.string() });
export type Health = z.infer<typeof healthSchema>;

/** Header a device sends with its token: its Ed25519 public key (a device paired before keys registers it so). */
export const DEVICE_KEY_HEADER = 'x-edc-device-key';
const devicePublicKeySchema = z.string().regex(/^[A-Za-z0-9_-]{43}$/, 'an Ed25519 public key (base64url, 43 characters)');

/** The code names the device id and role it was issued for; publicKey is optional only for versions before keys. */
export const pairRequestSchema = z.object({ code: z.string().min(4).max(32), deviceId: deviceIdSchema, role: roleSchema, publicKey: devicePublicKeySchema.optional() }).strict();
export type PairRequest = z.infer<typeof pairRequestSchema>;
/** serverPublicKey: the server's device key (absent from older servers); the device believes the server's device list under it. */
export const pairResponseSchema = z.object({ token: z.string().min(32), serverDeviceId: z.string(), serverPublicKey: devicePublicKeySchema.optional() });
export type PairResponse = z.infer<typeof pairResponseSchema>;

/**
 * Header a pushing device sends with every request of one push (a UUID, the same for all): the site shows those
 * requests as one session. Optional: a device without it is grouped by device and a quiet gap (core/sessions.ts).
 * A header, not a body field, so an older server (whose push body is strict) ignores it.
 */
export const PUSH_SESSION_HEADER = 'x-edc-push-session';
export const pushSessionHeaderSchema = z.uuid().optional();

export const pushRequestSchema = z.object({
  transactions: z.array(wireEnvelopeSchema).min(1).max(LIMITS.maxBatchCount),
}).strict();
export type PushRequest = z.infer<typeof pushRequestSchema>;

export const pushResponseSchema = z.object({
  accepted: z.array(z.string()),
  duplicates: z.array(z.string()),
  rejected: z.array(z.object({ id: z.string(), reason: z.string() })),
  /** Per producer in the batch: the highest producerSeq up to which the server holds every transaction. */
  highWater: z.record(z.string(), z.number().int().nonnegative()),
  /** Per producer in the batch: what the site and central hold (receipts travelling back down; see shared/fleet.ts). */
  holdings: holdingsSchema.optional(),
  /**
   * Ids of the sender's transactions (or, for a middleman, of the producers it forwards) that the server wants
   * sent again: undecryptable or invalid there, or asked for by a person. Absent from older servers.
   */
  resend: z.array(z.uuid()).max(1000).optional(),
});
export type PushResponse = z.infer<typeof pushResponseSchema>;

/**
 * Pre-flight (`POST /api/v1/preflight`, device token): before sending, what the receiver can take. Small on
 * purpose: other fields may be added, so clients parse it non-strictly. A server without the endpoint (404) is
 * an older version: the client pushes as before.
 */
export const preflightRequestSchema = z.object({
  /** The producers the caller is about to send for (a field laptop: itself; a middleman: itself and those it forwards). */
  producers: z.array(deviceIdSchema).min(1).max(1000),
}).strict();
export type PreflightRequest = z.infer<typeof preflightRequestSchema>;
export const preflightResponseSchema = z.object({
  deviceId: z.string(),
  /** The newest payload schema the receiver's store can apply. */
  schemaVersion: z.number().int().positive(),
  /** Key ids of the receiver's key set (not the keys): what it can decrypt. */
  keyIds: z.array(z.string().regex(/^[A-Za-z0-9-]{1,64}$/)).max(1000),
  /** Per requested producer: the highest producerSeq up to which the receiver holds every transaction. */
  highWater: z.record(z.string(), z.number().int().nonnegative()),
  /** Ids the receiver wants sent again (see pushResponseSchema.resend). */
  resend: z.array(z.uuid()).max(1000),
});
export type PreflightResponse = z.infer<typeof preflightResponseSchema>;

// ------------------------------------------------------------------ middleman ⇄ field share endpoint

export const shareSessionRequestSchema = z.object({
  code: z.string().min(4).max(32),
  middleman: deviceIdSchema,
  /** The middleman's device key and its signature of the code (absent from older middlemen): proves it is that device. */
  publicKey: devicePublicKeySchema.optional(),
  sig: z.string().regex(/^[A-Za-z0-9_-]{86}$/).optional(),
  /** The latest device list the middleman has from the site: the laptop takes it when it is newer than its own. */
  deviceList: deviceListSchema.optional(),
}).strict();
export const shareSessionResponseSchema = z.object({
  token: z.string().min(32), producer: z.string(), total: z.number().int().nonnegative(),
  /** The laptop's own state (latest producerSeq, versions, key ids, clock); absent from older laptops. */
  state: producerStateSchema.optional(),
  /** The laptop's device key (absent from laptops of versions before keys); the middleman verifies pages under it. */
  publicKey: devicePublicKeySchema.optional(),
});
export type ShareSessionResponse = z.infer<typeof shareSessionResponseSchema>;

export const sharePageQuerySchema = z.object({
  after: z.coerce.number().int().nonnegative(),
  limit: z.coerce.number().int().min(1).max(LIMITS.maxBatchCount).default(LIMITS.clientBatchCount),
}).strict();
export const sharePageSchema = z.object({
  transactions: z.array(wireEnvelopeSchema).max(LIMITS.maxBatchCount),
  /** More transactions exist after the last one in this page. */
  more: z.boolean(),
});
export type SharePage = z.infer<typeof sharePageSchema>;

export const shareAckRequestSchema = z.object({ ids: z.array(z.uuid()).min(1).max(LIMITS.maxBatchCount) }).strict();
export const shareAckResponseSchema = z.object({ acknowledged: z.number().int().nonnegative() });

/**
 * The laptop's signed statement of the tubes it handed to the middleman in the transactions (after, upTo] of this
 * pull (electron/core/custody.ts: `edc-custody-handover/1`). Absent from laptops of versions before signed custody.
 */
export const shareHandoverRequestSchema = z.object({
  after: z.number().int().nonnegative(),
  upTo: z.number().int().nonnegative(),
}).strict().refine((r) => r.upTo >= r.after, 'upTo must not be below after');
export const shareHandoverSchema = z.object({
  kind: z.literal('pull'),
  fromDevice: deviceIdSchema,
  toDevice: deviceIdSchema,
  handedAt: z.iso.datetime(),
  /** Canonical JSON text: the sorted requisition identifiers, each once. */
  tubes: z.string().max(400_000).refine((s) => {
    try {
      const v: unknown = JSON.parse(s);
      return Array.isArray(v) && v.every((x) => typeof x === 'string' && /^[A-Z0-9-]{4,48}$/.test(x));
    } catch {
      return false;
    }
  }, 'a JSON array of requisition identifiers'),
  handoverKey: devicePublicKeySchema,
  handoverSig: z.string().regex(/^[A-Za-z0-9_-]{86}$/),
}).strict();
export type ShareHandover = z.infer<typeof shareHandoverSchema>;

/** Device side: DIR/server.json, written by `pair`. Holds the device token: mode 0600. */
export const serverLinkSchema = z.object({
  url: z.url({ protocol: /^https?$/ }),
  deviceId: z.string(),
  serverDeviceId: z.string(),
  token: z.string().min(32),
  pairedAt: z.iso.datetime(),
}).strict();
export type ServerLink = z.infer<typeof serverLinkSchema>;

/** Progress of long work, for the UI and for stderr. */
export interface Progress {
  phase: string;
  done: number;
  total: number;
  bytes?: number;
}
