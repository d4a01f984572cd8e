/**
 * The app's API contract: one typed handler map. Every call names its input and output schemas, the
 * permission it needs and the device roles it exists on. Two transports implement it: Electron IPC (preload +
 * ipcMain, see electron/shell/) and HTTP for the web UI of site/central servers (electron/web/). Both validate
 * the input where it enters; the renderer only ever sees `ApiClient` (renderer/src/api.ts).
 */
import { z } from 'zod';
import { CALL_NAMES, type CallName } from './channels.ts';
import { ERROR_CODES, type ErrorCode } from './errors.ts';
import { consentInput, medicalHistoryInput, PANELS, specimenRequisitionInput, subjectInput, TX_NAMES, visitInput, vitalSignsInput } from './domain.ts';
import { deviceIdSchema, ROLES, roleSchema, type Role } from './settings.ts';
import { correctionReasonSchema, drawTimeCorrectionSchema, reasonsSchema, scopeSchema } from './specimens.ts';
import { batchGapSchema, gapSchema, producerWaitSchema, statusSchema, unmatchedFileSchema } from './status.ts';
import { timeToLabInputSchema, timeToLabSchema } from './time-to-lab.ts';
import { clockReadingSchema, deviceRowSchema, FLEET_SORTS } from './fleet.ts';
import { tubeChainSchema } from './custody.ts';

// ---- who may do what -------------------------------------------------------------------------------------

/** Web UI accounts (`edc-sync user add --role R`). The desktop app's local user holds every permission. */
export const USER_ROLES = ['research-assistant', 'lab-assistant', 'data-manager', 'admin'] as const;
export const userRoleSchema = z.enum(USER_ROLES);
export type UserRole = z.infer<typeof userRoleSchema>;

export const PERMISSIONS = ['view', 'sync', 'enter', 'decrypt', 'reconcile', 'retry', 'transfer', 'resolve', 'configure'] as const;
export type Permission = (typeof PERMISSIONS)[number];

export const ROLE_PERMISSIONS: Record<UserRole, readonly Permission[]> = {
  'research-assistant': ['view', 'sync', 'enter', 'decrypt', 'reconcile'],
  'lab-assistant': ['view', 'sync', 'reconcile', 'retry', 'transfer'],
  'data-manager': ['view', 'sync', 'enter', 'decrypt', 'reconcile', 'retry', 'transfer', 'resolve'],
  admin: PERMISSIONS,
};

// ---- shared pieces ----------------------------------------------------------------------------------------

const empty = z.object({}).strict();
export const errorCodeSchema = z.enum(Object.keys(ERROR_CODES) as [ErrorCode, ...ErrorCode[]]);
const id = z.uuid();
const count = z.number().int().nonnegative();
export const progressEventSchema = z.object({
  type: z.literal('progress'),
  op: z.enum(['sync.run', 'pull.run', 'files.send', 'files.import', 'batches.retry']),
  phase: z.string(),
  done: count,
  total: count,
});
export const shareStateSchema = z.object({
  active: z.boolean(),
  url: z.string().nullable(),
  code: z.string().nullable(),
  middleman: z.string().nullable(),
  acknowledged: count,
  waiting: count,
  closedReason: z.enum(['done', 'idle', 'stopped', 'too-many-attempts']).nullable(),
});
export type ShareState = z.infer<typeof shareStateSchema>;
export const shareEventSchema = z.object({ type: z.literal('share'), state: shareStateSchema });
export const changedEventSchema = z.object({ type: z.literal('changed'), what: z.enum(['status', 'batches']) });
/** Everything the main process (or the web host) pushes to the renderer. */
export const appEventSchema = z.discriminatedUnion('type', [progressEventSchema, shareEventSchema, changedEventSchema]);
export type AppEvent = z.infer<typeof appEventSchema>;
export type ProgressEvent = z.infer<typeof progressEventSchema>;

export const appInfoSchema = z.object({
  initialised: z.boolean(),
  deviceRole: roleSchema.nullable(),
  deviceId: z.string().nullable(),
  siteCode: z.string().nullable(),
  hasKeys: z.boolean(),
  /** full: reads participants' details; carrier: a middleman's key set (PII stays ciphertext); none. */
  keyScope: z.enum(['none', 'full', 'carrier']).default('none'),
  paired: z.boolean(),
  version: z.string(),
  host: z.enum(['desktop', 'web']),
  user: z.object({ username: z.string(), role: userRoleSchema.nullable() }),
  permissions: z.array(z.enum(PERMISSIONS)),
  /** IPv4 addresses of this machine (for "Let the driver pull"), loopback last. */
  addresses: z.array(z.string()),
  settings: z.record(z.string(), z.unknown()).nullable(),
});
export type AppInfo = z.infer<typeof appInfoSchema>;

const subjectSummary = z.object({
  id,
  subjectIdentifier: z.string(),
  firstName: z.string(),
  lastName: z.string(),
  dob: z.string(),
  gender: z.enum(['M', 'F']),
  registrationDatetime: z.string(),
});
export type SubjectSummary = z.infer<typeof subjectSummary>;

const requisitionSchema = z.object({
  id,
  requisitionIdentifier: z.string(),
  visitId: id,
  panel: z.string(),
  specimenType: z.string(),
  drawnDatetime: z.string(),
  itemCount: z.number().int(),
  /** Draw-time corrections from the record's audit history, oldest first. */
  drawCorrections: z.array(z.object({ from: z.string(), to: z.string(), reason: z.string().nullable(), user: z.string(), at: z.string() })).default([]),
});
export type Requisition = z.infer<typeof requisitionSchema>;

const visitSchema = z.object({
  id,
  visitCode: z.string(),
  visitCodeSequence: z.number().int(),
  visitDatetime: z.string(),
  reason: z.string(),
  vitalSigns: vitalSignsInput.omit({ visitId: true }).extend({ id }).nullable(),
  medicalHistory: medicalHistoryInput.omit({ visitId: true }).extend({ id }).nullable(),
  requisitions: z.array(requisitionSchema),
});
export type Visit = z.infer<typeof visitSchema>;

/** What can be corrected and deleted on the field laptop (electron/core/corrections.ts); a visit's two forms are deleted only (they are corrected by saving the form again). */
export const RECORD_KINDS = ['subject', 'consent', 'visit', 'requisition', 'vitalSigns', 'medicalHistory'] as const;
export type RecordKind = (typeof RECORD_KINDS)[number];
const panelSchema = z.enum(Object.keys(PANELS) as [keyof typeof PANELS, ...(keyof typeof PANELS)[]]);
/** A correction: the fields that change (validated by the same schemas as entry) and why. */
export const correctionSchema = z.discriminatedUnion('kind', [
  z.object({ kind: z.literal('subject'), id, reason: correctionReasonSchema, changes: subjectInput.pick({ firstName: true, lastName: true, dob: true, identityNumber: true, phone: true, gender: true }).partial().strict() }).strict(),
  z.object({ kind: z.literal('consent'), id, reason: correctionReasonSchema, changes: consentInput.pick({ version: true, consentDatetime: true, isLiterate: true, language: true }).partial().strict() }).strict(),
  z.object({ kind: z.literal('visit'), id, reason: correctionReasonSchema, changes: visitInput.pick({ visitCode: true, visitDatetime: true, reason: true }).partial().strict() }).strict(),
  z.object({
    kind: z.literal('requisition'), id, reason: correctionReasonSchema,
    changes: z.object({ panel: panelSchema, specimenType: specimenRequisitionInput.shape.specimenType, itemCount: specimenRequisitionInput.shape.itemCount }).partial().strict()
      .refine((c) => c.panel === undefined || c.specimenType === undefined || (PANELS[c.panel] as readonly string[]).includes(c.specimenType), { message: 'that specimen is not taken for this test', path: ['specimenType'] }),
  }).strict(),
]);
export type CorrectionInput = z.input<typeof correctionSchema>;
/** One row of a participant's history (audit), deleted records included. */
const historyEntrySchema = z.object({
  txName: z.enum(TX_NAMES as [string, ...string[]]),
  recordId: z.string(),
  action: z.enum(['I', 'U', 'D']),
  revision: z.number().int(),
  user: z.string(),
  at: z.string(),
  reason: z.string().nullable(),
  what: z.string().nullable(),
  changes: z.record(z.string(), z.tuple([z.unknown(), z.unknown()])).nullable(),
});
export type HistoryEntry = z.infer<typeof historyEntrySchema>;
const deletedSubjectSchema = z.object({
  id, subjectIdentifier: z.string(), firstName: z.string().nullable(), lastName: z.string().nullable(), deletedAt: z.string(), deletedBy: z.string(), reason: z.string().nullable(),
});
export type DeletedSubject = z.infer<typeof deletedSubjectSchema>;

export const PENDING_STATES = ['pending-server', 'pending-middleman', 'delivered', 'all'] as const;
const pendingRow = z.object({
  id,
  producer: z.string(),
  producerSeq: z.number().int(),
  txName: z.string(),
  action: z.enum(['I', 'U', 'D']),
  timestamp: z.string(),
  keyId: z.string(),
  state: z.enum(['pending-server', 'pending-middleman', 'delivered']),
  /** Where it is now, as far as this device has heard: here · with a middleman · at the site · at central. */
  hop: z.enum(['here', 'middleman', 'site', 'central']),
  batchId: z.string().nullable(),
});
export type PendingRow = z.infer<typeof pendingRow>;

const expectedSpecimen = z.object({
  requisitionIdentifier: z.string(),
  subjectIdentifier: z.string().nullable(),
  panel: z.string(),
  specimenType: z.string(),
  drawnDatetime: z.string(),
  producer: z.string(),
});
export type ExpectedSpecimen = z.infer<typeof expectedSpecimen>;

/** A scanned or typed requisition barcode: what a scanner sends before Enter, trimmed and upper-cased. */
export const barcodeSchema = z.string().trim().toUpperCase().regex(/^[A-Z0-9-]{4,48}$/, '4–48 letters, digits or dashes');

const fileBatchRow = z.object({
  batchId: z.string(),
  batchSeq: z.number().int(),
  fileName: z.string(),
  count,
  status: z.enum(['pending', 'written', 'sent', 'acknowledged']),
  createdAt: z.string(),
  sentAt: z.string().nullable(),
  acknowledgedAt: z.string().nullable(),
  receipt: z.string().nullable(),
});

export const CHANNELS = ['rest', 'middleman', 'file', 'copy'] as const;
/** How a session arrived: a push (laptop or driver), a middleman's pull from a laptop, a file, a store copy. */
export const SESSION_KINDS = ['push', 'pull', 'file', 'copy'] as const;
export type SessionKind = (typeof SESSION_KINDS)[number];
/** A receive session's id: a UUID, or an earlier batch's "legacy-rest" etc. */
export const sessionIdSchema = z.string().regex(/^[A-Za-z0-9-]{1,64}$/, 'a session id');
const stateCounts = {
  total: count,
  consumed: count,
  pending: count,
  deferred: count,
  error: count,
  conflicts: count,
  /** Waiting because a change they depend on failed here. */
  blocked: count,
};
/** One hand-over (see electron/core/sessions.ts): every request of one push session, one pull, one file. */
const sessionRow = z.object({
  id: sessionIdSchema,
  kind: z.enum(SESSION_KINDS),
  channel: z.enum(CHANNELS),
  /** Who handed it over: the pushing laptop or driver, the laptop pulled from, the file's exporter. */
  device: z.string(),
  /** A file's name. */
  label: z.string().nullable(),
  startedAt: z.string(),
  lastAt: z.string(),
  requests: count,
  producers: z.array(z.string()),
  ...stateCounts,
});
export type SessionRow = z.infer<typeof sessionRow>;
const requestRow = z.object({ batchId: z.string().nullable(), receivedAt: z.string(), ...stateCounts });
export type RequestRow = z.infer<typeof requestRow>;
const deviceSummary = z.object({ device: z.string(), sessions: count, transactions: count, problems: count, lastAt: z.string() });
export type DeviceSummary = z.infer<typeof deviceSummary>;
export const PROBLEM_KINDS = ['error', 'conflict', 'blocked', 'deferred'] as const;
/** Identical reasons as one line: how many, which devices made them and which carried them. */
const reasonGroup = z.object({
  kind: z.enum(PROBLEM_KINDS),
  /** The error code inside the reason, when it names one (for the plain sentence and the advice). */
  code: errorCodeSchema.nullable(),
  /** The stored reason (ids shortened): the details line for support. */
  reason: z.string(),
  count,
  producers: z.array(z.string()),
  carriers: z.array(z.string()),
  /** One of them, to open in the inspector. */
  sampleId: z.string(),
});
export type ReasonGroup = z.infer<typeof reasonGroup>;
export const TX_STATES = ['consumed', 'pending', 'deferred', 'blocked', 'error', 'conflict', 'ignored', 'set-aside'] as const;
const batchTxRow = z.object({
  id,
  producer: z.string(),
  producerSeq: z.number().int(),
  txName: z.string(),
  action: z.enum(['I', 'U', 'D']),
  state: z.enum(TX_STATES),
  reason: z.string().nullable(),
  code: errorCodeSchema.nullable(),
  receivedAt: z.string(),
});
export type BatchTxRow = z.infer<typeof batchTxRow>;
export const HOP_STEPS = ['made', 'received', 'applied', 'failed', 'setAside', 'forwarded', 'exported', 'sent', 'atCentral'] as const;
/** One transaction as the inspector shows it: the envelope, where it has been, the record's history, its content. */
const inspectedTx = z.object({
  envelope: z.object({
    id, producer: z.string(), producerSeq: z.number().int(), txName: z.string(), recordId: z.string(), action: z.enum(['I', 'U', 'D']),
    madeAt: z.string(), schemaVersion: z.number().int(), keyId: z.string(), signed: z.boolean(),
  }),
  state: z.enum(TX_STATES),
  reason: z.string().nullable(),
  code: errorCodeSchema.nullable(),
  sessionId: z.string().nullable(),
  hops: z.array(z.object({ step: z.enum(HOP_STEPS), at: z.string().nullable(), device: z.string().nullable(), detail: z.string().nullable() })),
  /** The record's audit rows, oldest first; `changes` (decrypted) only for roles with "decrypt". */
  history: z.array(z.object({
    action: z.enum(['I', 'U', 'D']), revision: z.number().int(), user: z.string(), host: z.string(), device: z.string(), at: z.string(),
    thisChange: z.boolean(), fields: count, changes: z.record(z.string(), z.tuple([z.unknown(), z.unknown()])).nullable(),
    /** Why, when the person said (a correction or a delete). */
    reason: z.string().nullable().default(null),
  })),
  /** The decrypted content; null when the caller may not decrypt (contentHidden) or it cannot be (contentError). */
  content: z.record(z.string(), z.unknown()).nullable(),
  contentHidden: z.boolean(),
  contentError: errorCodeSchema.nullable(),
  /** History columns this device's key set cannot read (a middleman's carrier set), shown as "protected"; the content's own list is content.protected. */
  protectedFields: z.array(z.string()).default([]),
});
export type InspectedTx = z.infer<typeof inspectedTx>;

const setAsideCandidate = z.object({
  id, producer: z.string(), producerSeq: z.number().int(), txName: z.string(), txPk: z.string(), state: z.enum(['error', 'blocked']), reason: z.string().nullable(),
});

const conflictRow = z.object({
  incomingId: id,
  /** What happened (electron/core/conflicts.ts): the screen's sentence; `reason` is the details line. */
  kind: z.enum(['update-changed', 'update-deleted', 'delete-changed', 'exists', 'natural-key']),
  /** The identifier people know the record by, when it has one. */
  label: z.string().nullable(),
  txName: z.string(),
  recordId: z.string(),
  localRevision: z.number().int().nullable(),
  incomingBaseRevision: z.number().int(),
  detectedAt: z.string(),
  reason: z.string().nullable(),
  /** column → [here, incoming], PII decrypted */
  differences: z.record(z.string(), z.tuple([z.unknown(), z.unknown()])),
  /** PII columns this device's key set cannot read (a middleman's carrier set): shown as "protected". */
  protectedFields: z.array(z.string()).default([]),
  changedHereBy: z.string().nullable(),
  changedIncomingBy: z.string().nullable(),
  resolvedAt: z.string().nullable(),
  resolution: z.enum(['keep-here', 'take-incoming']).nullable(),
  resolvedBy: z.string().nullable(),
  canTakeIncoming: z.boolean(),
});
export type ConflictRow = z.infer<typeof conflictRow>;

const consumeResult = z.object({ applied: count, ignored: count, errors: count, conflicts: count, deferred: count, gaps: z.array(gapSchema) });

// ---- the handler map ---------------------------------------------------------------------------------------

interface CallDef<I extends z.ZodType, O extends z.ZodType> {
  input: I;
  output: O;
  permission: Permission;
  /** Device roles the call exists on (calls for other roles fail with ROLE_NOT_ALLOWED). */
  roles: readonly Role[];
  /** Callable before the device is set up (desktop first run). */
  beforeSetup?: true;
}
const def = <I extends z.ZodType, O extends z.ZodType>(d: CallDef<I, O>): CallDef<I, O> => d;
const CONSUMERS = ['middleman', 'site', 'central'] as const satisfies readonly Role[];
const SENDERS = ['field', 'middleman'] as const satisfies readonly Role[];

export const contract = {
  'app.info': def({ input: empty, output: appInfoSchema, permission: 'view', roles: ROLES, beforeSetup: true }),
  'device.setup': def({
    input: z.object({
      role: roleSchema.optional(),
      deviceId: deviceIdSchema.optional(),
      siteCode: z.string().regex(/^[A-Z0-9]{1,8}$/).optional(),
      /** Path of an exported key set file to install (or merge)… */
      keyFile: z.string().min(1).max(4096).optional(),
      /** …or its content, as read by the page from a chosen file. */
      keySetJson: z.string().min(2).max(256 * 1024).optional(),
      server: z.object({ url: z.url(), code: z.string().min(4).max(32) }).optional(),
    }).strict(),
    output: z.object({ done: z.array(z.string()) }),
    permission: 'configure', roles: ROLES, beforeSetup: true,
  }),
  'settings.update': def({
    input: z.object({ key: z.string().min(1).max(64), value: z.string().max(4096) }).strict(),
    output: z.object({ settings: z.record(z.string(), z.unknown()) }),
    permission: 'configure', roles: ROLES,
  }),
  'status.get': def({ input: empty, output: statusSchema, permission: 'view', roles: ROLES }),
  'server.check': def({
    input: empty,
    /** code: why it is not reachable (null when it is), for the screen's plain sentence; message: the details line. */
    output: z.object({ configured: z.boolean(), reachable: z.boolean(), url: z.string().nullable(), message: z.string(), code: errorCodeSchema.nullable().default(null), checkedAt: z.string().default('') }),
    permission: 'view', roles: SENDERS,
  }),
  'sync.run': def({
    input: empty,
    output: z.object({ sent: count, accepted: count, duplicates: count, rejected: count, message: z.string() }),
    permission: 'sync', roles: SENDERS,
  }),
  /** Part of a name, the participant number, identity number or phone (empty: everyone), newest first, a page at a time. */
  'subjects.search': def({
    input: z.object({ query: z.string().trim().max(80), page: z.number().int().min(0).default(0), pageSize: z.number().int().min(1).max(100).default(25) }).strict(),
    output: z.object({ rows: z.array(subjectSummary), total: count }),
    permission: 'enter', roles: ['field'],
  }),
  'subjects.register': def({
    input: subjectInput.omit({ subjectIdentifier: true, registrationDatetime: true }).strict(),
    output: subjectSummary,
    permission: 'enter', roles: ['field'],
  }),
  'subjects.get': def({
    input: z.object({ id }).strict(),
    output: z.object({ subject: subjectSummary.extend({ identityNumber: z.string(), phone: z.string().nullable() }), consents: z.array(consentInput.omit({ subjectId: true }).extend({ id })), visits: z.array(visitSchema) }),
    permission: 'enter', roles: ['field'],
  }),
  'consent.save': def({ input: consentInput, output: z.object({ id }), permission: 'enter', roles: ['field'] }),
  'visits.add': def({ input: visitInput, output: z.object({ id }), permission: 'enter', roles: ['field'] }),
  'crf.vitalSigns.save': def({ input: vitalSignsInput, output: z.object({ id }), permission: 'enter', roles: ['field'] }),
  'crf.medicalHistory.save': def({ input: medicalHistoryInput, output: z.object({ id }), permission: 'enter', roles: ['field'] }),
  'requisitions.create': def({
    input: z.object({
      visitId: id,
      drawnDatetime: z.iso.datetime(),
      specimens: z.array(z.object({
        panel: z.enum(Object.keys(PANELS) as [keyof typeof PANELS, ...(keyof typeof PANELS)[]]),
        specimenType: z.string().min(1).max(40),
        itemCount: z.number().int().min(1).max(20),
      }).strict()).min(1).max(20),
    }).strict(),
    output: z.array(requisitionSchema),
    permission: 'enter', roles: ['field'],
  }),
  /** The RA corrects a tube's draw time: an audited update through the write path, with the reason. */
  'requisitions.correctDrawTime': def({ input: drawTimeCorrectionSchema, output: requisitionSchema, permission: 'enter', roles: ['field'] }),
  /** The RA corrects a participant, consent, visit or blood tube: an audited, synced update with the reason. */
  'records.correct': def({ input: correctionSchema, output: z.object({ id, revision: z.number().int() }), permission: 'enter', roles: ['field'] }),
  /** The RA deletes one (and what depends on it): audited, synced deletes with the reason; returns how many records. */
  'records.delete': def({
    input: z.object({ kind: z.enum(RECORD_KINDS), id, reason: correctionReasonSchema }).strict(),
    output: z.object({ deleted: count }),
    permission: 'enter', roles: ['field'],
  }),
  /** A participant's history: every change to them and to what was recorded for them, deleted records included. */
  'records.history': def({ input: z.object({ subjectId: id }).strict(), output: z.object({ entries: z.array(historyEntrySchema) }), permission: 'enter', roles: ['field'] }),
  /** Participants deleted on this laptop, newest first. */
  'subjects.deleted': def({
    input: z.object({ page: z.number().int().min(0).default(0), pageSize: z.number().int().min(1).max(100).default(25) }).strict(),
    output: z.object({ rows: z.array(deletedSubjectSchema), total: count }),
    permission: 'enter', roles: ['field'],
  }),
  'pending.list': def({
    input: z.object({
      /** own: this device's transactions; forwarding: those it received and passes on (middleman, site). */
      source: z.enum(['own', 'forwarding']).default('own'),
      txName: z.enum(TX_NAMES as [string, ...string[]]).optional(),
      state: z.enum(PENDING_STATES).default('pending-server'),
      page: z.number().int().min(0).default(0),
      pageSize: z.number().int().min(1).max(200).default(25),
    }).strict(),
    output: z.object({ rows: z.array(pendingRow), total: count }),
    permission: 'view', roles: ROLES,
  }),
  'pending.open': def({
    input: z.object({ id }).strict(),
    output: z.object({ row: pendingRow, content: z.record(z.string(), z.unknown()) }),
    permission: 'decrypt', roles: ROLES,
  }),
  'share.start': def({
    input: z.object({ host: z.string().min(1).max(64), idleMinutes: z.number().int().min(1).max(120).default(10) }).strict(),
    output: shareStateSchema,
    permission: 'sync', roles: ['field'],
  }),
  'share.stop': def({ input: empty, output: shareStateSchema, permission: 'sync', roles: ['field'] }),
  'share.state': def({ input: empty, output: shareStateSchema, permission: 'sync', roles: ['field'] }),
  'pull.run': def({
    input: z.object({ url: z.url(), code: z.string().trim().min(4).max(32) }).strict(),
    output: z.object({ producer: z.string(), received: count, duplicates: count, rejected: count, consumed: consumeResult }),
    permission: 'sync', roles: ['middleman'],
  }),
  'reconciliation.expected': def({
    /** No scope: the latest pull on a middleman; on a site, nothing until a driver or laptop is chosen. */
    input: z.object({ scope: scopeSchema.optional() }).strict(),
    output: z.object({
      scope: scopeSchema.nullable(),
      /** The device that handed these tubes over (laptop or driver), when the scope names one. */
      fromDevice: z.string().nullable(),
      specimens: z.array(expectedSpecimen),
      pulls: z.array(z.object({ batchId: z.string(), producer: z.string(), at: z.string(), tubes: count })),
      producers: z.array(z.string()),
      drivers: z.array(z.string()),
    }),
    permission: 'reconcile', roles: CONSUMERS,
  }),
  'reconciliation.save': def({
    input: z.object({
      scope: scopeSchema,
      location: z.string().trim().min(1).max(80),
      scanned: z.array(barcodeSchema).max(5000),
      /** A reason for every missing and every unexpected tube. */
      reasons: reasonsSchema,
      /** How many missing tubes the person confirmed; if the list changed meanwhile, nothing is saved. */
      missingConfirmed: count,
    }).strict(),
    output: z.object({ reconciliationIdentifier: z.string(), custodyIdentifier: z.string(), matched: z.array(z.string()), missing: z.array(z.string()), unexpected: z.array(z.string()) }),
    permission: 'reconcile', roles: CONSUMERS,
  }),
  /** The chain of custody of one tube (scanned or typed): who held it when, and whether each signature verifies. */
  'custody.chain': def({
    input: z.object({ tube: barcodeSchema }).strict(),
    output: z.object({ chain: tubeChainSchema, records: count }),
    permission: 'view', roles: CONSUMERS,
  }),
  /** Tubes whose chain needs a look: a record that does not verify first, then a missing hand-over. */
  'custody.flagged': def({
    input: z.object({ page: z.number().int().min(0).default(0), pageSize: z.number().int().min(1).max(100).default(25) }).strict(),
    output: z.object({ rows: z.array(tubeChainSchema), total: count, records: count }),
    permission: 'view', roles: CONSUMERS,
  }),
  'specimens.settings': def({
    input: empty,
    output: z.object({ stabilityMinutes: z.record(z.string(), z.number()), labelWidthMm: z.number(), labelHeightMm: z.number() }),
    permission: 'view', roles: ROLES,
  }),
  /** The site's draw-to-lab times per local day and per laptop (receipt: the lab's reconciliation here). */
  'specimens.timeToLab': def({ input: timeToLabInputSchema, output: timeToLabSchema, permission: 'view', roles: ['site'] }),
  'files.overview': def({
    /** The written batches newest first, a page at a time. */
    input: z.object({ page: z.number().int().min(0).default(0), pageSize: z.number().int().min(1).max(100).default(25) }).strict(),
    output: z.object({ configured: z.boolean(), target: z.string().nullable(), pendingTransactions: count, batches: z.array(fileBatchRow), totalBatches: count }),
    permission: 'transfer', roles: ['field', 'middleman', 'site'],
  }),
  'files.send': def({
    input: empty,
    output: z.object({ exported: count, sent: count, transactions: count, receipts: count, message: z.string() }),
    permission: 'transfer', roles: ['field', 'middleman', 'site'],
  }),
  /** Files import set aside (quarantined) because a check failed, newest first, a page at a time, with the reason. */
  'files.setAside': def({
    input: z.object({ page: z.number().int().min(0).default(0), pageSize: z.number().int().min(1).max(100).default(25) }).strict(),
    output: z.object({ rows: z.array(z.object({ fileName: z.string(), reason: z.string().nullable(), at: z.string() })), total: count }),
    permission: 'view', roles: CONSUMERS,
  }),
  /** A batch written again, byte for byte, under its number (the receiver quarantined or never got it); the next send carries it. */
  'files.resend': def({
    input: z.object({ batchId: z.uuid() }).strict(),
    output: z.object({ batchSeq: count, count, fileName: z.string() }),
    permission: 'transfer', roles: ['field', 'middleman', 'site'],
  }),
  'files.import': def({
    input: empty,
    output: z.object({ imported: count, transactions: count, skipped: count, quarantined: count, waitingFor: z.array(z.string()), message: z.string() }),
    permission: 'transfer', roles: ['site', 'central'],
  }),
  /** Receive sessions, newest first, a page at a time (paged in SQL), with the overview the screen shows above them. */
  'batches.list': def({
    input: z.object({
      page: z.number().int().min(0).default(0),
      pageSize: z.number().int().min(1).max(100).default(25),
      /** Only sessions with a failed, conflicting, blocked or waiting change. */
      problems: z.boolean().default(false),
      /** Sessions this device handed over or made changes in. */
      device: deviceIdSchema.optional(),
    }).strict(),
    output: z.object({
      sessions: z.array(sessionRow), total: count, devices: z.array(deviceSummary),
      /** Changes that failed, and sessions with any problem, over everything received. */
      errors: count, problemSessions: count,
      gaps: z.array(gapSchema), consumerError: z.string().nullable(),
      /** Files import waits for: missing batch numbers per exporter, and files without their other half. */
      batchGaps: z.array(batchGapSchema), unmatchedFiles: z.array(unmatchedFileSchema),
      /** Per producer, why its changes wait here (gap, deferred, blocked, schema, key). */
      producerWaits: z.array(producerWaitSchema),
    }),
    permission: 'view', roles: CONSUMERS,
  }),
  /** The requests (batches) of one session. */
  'batches.requests': def({
    input: z.object({ sessionId: sessionIdSchema }).strict(),
    output: z.object({ requests: z.array(requestRow) }),
    permission: 'view', roles: CONSUMERS,
  }),
  'batches.transactions': def({
    input: z.object({
      sessionId: sessionIdSchema,
      /** One request of the session (omitted: all of them). */
      batchId: z.string().max(64).nullable().optional(),
      onlyProblems: z.boolean().default(false),
      page: z.number().int().min(0).default(0),
      pageSize: z.number().int().min(1).max(200).default(50),
    }).strict(),
    output: z.object({ rows: z.array(batchTxRow), total: count }),
    permission: 'view', roles: CONSUMERS,
  }),
  /** Identical problem reasons as one line each, most frequent first (everything received, or one session). */
  'batches.reasons': def({
    input: z.object({ sessionId: sessionIdSchema.optional() }).strict(),
    output: z.object({ groups: z.array(reasonGroup) }),
    permission: 'view', roles: CONSUMERS,
  }),
  /** One received transaction: envelope, hops, history; its content only for roles with "decrypt". */
  'transactions.inspect': def({
    input: z.object({ id: z.string().trim().pipe(z.uuid()) }).strict(),
    output: inspectedTx,
    permission: 'view', roles: CONSUMERS,
  }),
  'batches.retry': def({ input: empty, output: consumeResult, permission: 'retry', roles: CONSUMERS }),
  /** What setting a failed (or blocked) transaction aside would cover: it, and what waits for it (core/set-aside.ts). */
  'transactions.setAsidePlan': def({
    input: z.object({ id: z.string().trim().pipe(z.uuid()) }).strict(),
    output: z.object({ root: setAsideCandidate, dependants: z.array(setAsideCandidate), alike: z.array(setAsideCandidate) }),
    permission: 'resolve', roles: ['site', 'central'],
  }),
  /** A data manager sets it aside with a reason (and, by default, what waits for it): recorded, audited, synced on. */
  'transactions.setAside': def({
    input: z.object({ id: z.string().trim().pipe(z.uuid()), reason: z.string().trim().min(3).max(500), withDependants: z.boolean().default(true), withAlike: z.boolean().default(false) }).strict(),
    output: z.object({ setAside: count }),
    permission: 'resolve', roles: ['site', 'central'],
  }),
  'conflicts.list': def({
    input: z.object({ includeResolved: z.boolean().default(false), page: z.number().int().min(0).default(0), pageSize: z.number().int().min(1).max(100).default(20) }).strict(),
    output: z.object({ conflicts: z.array(conflictRow), total: count }),
    permission: 'decrypt', roles: CONSUMERS,
  }),
  'conflicts.resolve': def({
    input: z.object({ incomingId: id, resolution: z.enum(['keep-here', 'take-incoming']) }).strict(),
    output: z.object({ message: z.string() }),
    permission: 'resolve', roles: CONSUMERS,
  }),
  /**
   * The fleet (site, central; a middleman: the laptops it visited): one row per device, those needing attention first
   * or by a column, a page at a time (filtered, ordered and paged in SQL), with how many there are and how many owe.
   */
  'devices.list': def({
    input: z.object({
      today: z.boolean().default(false),
      sort: z.enum(FLEET_SORTS).default('attention'),
      desc: z.boolean().default(false),
      page: z.number().int().min(0).default(0),
      pageSize: z.number().int().min(1).max(100).default(20),
    }).strict(),
    output: z.object({
      rows: z.array(deviceRowSchema),
      total: count,
      /** Devices (of the whole list, not the page) that still owe changes. */
      owing: count,
      /** What the flags compare against: this device's app and schema version, its active key, the clock threshold. */
      here: z.object({ appVersion: z.string(), schemaVersion: z.number().int(), activeKeyId: z.string().nullable(), clockWarnMs: count }),
    }),
    permission: 'view', roles: CONSUMERS,
  }),
  'devices.clock': def({
    input: z.object({ deviceId: deviceIdSchema }).strict(),
    output: z.object({ readings: z.array(clockReadingSchema) }),
    permission: 'view', roles: CONSUMERS,
  }),
  /** An administrator issues a one-time code for exactly this device id and role (or to replace a paired machine). */
  'devices.pairingCode': def({
    input: z.object({ deviceId: deviceIdSchema, role: z.enum(['field', 'middleman']), replace: z.boolean().default(false) }).strict(),
    output: z.object({ code: z.string(), deviceId: z.string(), role: roleSchema, expiresAt: z.string(), purpose: z.enum(['pair', 'replace']) }),
    permission: 'configure', roles: ['site'],
  }),
} as const satisfies Record<CallName, CallDef<z.ZodType, z.ZodType>>;

export type Contract = typeof contract;
export type CallInput<K extends CallName> = z.input<Contract[K]['input']>;
export type ParsedInput<K extends CallName> = z.output<Contract[K]['input']>;
export type CallOutput<K extends CallName> = z.output<Contract[K]['output']>;

/** The server side of the contract: one async function per call. */
export type Handlers = { [K in CallName]: (input: ParsedInput<K>) => Promise<CallOutput<K>> };

/** What the renderer holds, whichever transport is underneath. */
export interface ApiClient {
  call<K extends CallName>(name: K, input: CallInput<K>): Promise<CallOutput<K>>;
  onEvent(listener: (e: AppEvent) => void): () => void;
}

/** Every reply on either transport: a value, or a coded error with a message for people. */
export const callFailureSchema = z.object({ ok: z.literal(false), error: z.object({ code: errorCodeSchema, message: z.string(), field: z.string().max(200).optional() }) });
export type CallFailure = z.infer<typeof callFailureSchema>;
export type CallReply = { ok: true; value: unknown } | CallFailure;

export function permissionsOf(role: UserRole | null): readonly Permission[] {
  return role === null ? PERMISSIONS : ROLE_PERMISSIONS[role];
}

/** The contract and the channel list name the same calls (checked at start-up and in tests). */
export function assertContractComplete(): void {
  const keys = Object.keys(contract).sort();
  const names = [...CALL_NAMES].sort();
  if (keys.join() !== names.join()) throw new Error(`contract and CALL_NAMES differ: ${keys.join()} vs ${names.join()}`);
}

// web UI login (HTTP only; not part of the handler map, the session is the transport's business)
export const loginRequestSchema = z.object({ username: z.string().trim().min(1).max(64), password: z.string().min(1).max(1024) }).strict();
export const sessionSchema = z.object({ username: z.string(), role: userRoleSchema });
