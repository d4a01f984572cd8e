/**
 * The store's tables: the one source of types for rows. Synced models carry the common sync columns and are
 * registered in ../domain/registry.ts (txName, natural key, parents, PII). Datetimes are ISO-8601 UTC text
 * (sortable, readable, the same in every dialect); booleans are 0/1 integers.
 *
 * This file imports only drizzle-orm so that drizzle-kit can load it on its own.
 */

import { sql } from 'drizzle-orm';
import { blob, index, integer, real, sqliteTable, text, uniqueIndex } from 'drizzle-orm/sqlite-core';

/** Columns every synced model has. */
const syncColumns = () => ({
  id: text('id').primaryKey(),
  created: text('created').notNull(),
  modified: text('modified').notNull(),
  userCreated: text('user_created').notNull(),
  userModified: text('user_modified').notNull(),
  hostnameCreated: text('hostname_created').notNull(),
  hostnameModified: text('hostname_modified').notNull(),
  deviceId: text('device_id').notNull(),
  revision: integer('revision').notNull(),
});

// ---------------------------------------------------------------- study domain (synced)

/** Subject registration. PII columns hold AES-GCM ciphertext; *_hash a keyed HMAC for exact lookups. */
export const subject = sqliteTable('subject', {
  ...syncColumns(),
  subjectIdentifier: text('subject_identifier').notNull(),
  firstName: text('first_name').notNull(),
  firstNameHash: text('first_name_hash').notNull(),
  lastName: text('last_name').notNull(),
  lastNameHash: text('last_name_hash').notNull(),
  dob: text('dob').notNull(),
  dobHash: text('dob_hash').notNull(),
  identityNumber: text('identity_number').notNull(),
  identityNumberHash: text('identity_number_hash').notNull(),
  phone: text('phone'),
  phoneHash: text('phone_hash'),
  gender: text('gender', { enum: ['M', 'F'] }).notNull(),
  registrationDatetime: text('registration_datetime').notNull(),
}, (t) => [
  uniqueIndex('subject_nk').on(t.subjectIdentifier),
  index('subject_identity_number_hash').on(t.identityNumberHash),
  index('subject_last_name_hash').on(t.lastNameHash),
]);

export const consent = sqliteTable('consent', {
  ...syncColumns(),
  subjectId: text('subject_id').notNull().references(() => subject.id),
  version: text('version').notNull(),
  consentDatetime: text('consent_datetime').notNull(),
  isLiterate: integer('is_literate', { mode: 'boolean' }).notNull(),
  language: text('language').notNull(),
}, (t) => [uniqueIndex('consent_nk').on(t.subjectId, t.version)]);

export const visit = sqliteTable('visit', {
  ...syncColumns(),
  subjectId: text('subject_id').notNull().references(() => subject.id),
  visitCode: text('visit_code').notNull(),
  visitCodeSequence: integer('visit_code_sequence').notNull(),
  visitDatetime: text('visit_datetime').notNull(),
  reason: text('reason', { enum: ['scheduled', 'unscheduled', 'missed'] }).notNull(),
}, (t) => [uniqueIndex('visit_nk').on(t.subjectId, t.visitCode, t.visitCodeSequence)]);

/** CRF: vital signs, one per visit. */
export const vitalSigns = sqliteTable('vital_signs', {
  ...syncColumns(),
  visitId: text('visit_id').notNull().references(() => visit.id),
  weightKg: real('weight_kg'),
  heightCm: real('height_cm'),
  systolic: integer('systolic'),
  diastolic: integer('diastolic'),
  temperatureC: real('temperature_c'),
  /** Schema 2: oxygen saturation (SpO2, %), added to the form; older payloads are upcast with null (domain/upcast.ts). */
  oxygenSaturation: integer('oxygen_saturation'),
}, (t) => [uniqueIndex('vital_signs_nk').on(t.visitId)]);

/** CRF: medical history, one per visit. */
export const medicalHistory = sqliteTable('medical_history', {
  ...syncColumns(),
  visitId: text('visit_id').notNull().references(() => visit.id),
  hypertension: integer('hypertension', { mode: 'boolean' }).notNull(),
  diabetes: integer('diabetes', { mode: 'boolean' }).notNull(),
  hivStatus: text('hiv_status', { enum: ['positive', 'negative', 'unknown'] }).notNull(),
  currentMedications: text('current_medications'),
}, (t) => [uniqueIndex('medical_history_nk').on(t.visitId)]);

/** Specimen requisition; the identifier is printed as a Code 128 barcode on the tube label. */
export const specimenRequisition = sqliteTable('specimen_requisition', {
  ...syncColumns(),
  visitId: text('visit_id').notNull().references(() => visit.id),
  requisitionIdentifier: text('requisition_identifier').notNull(),
  panel: text('panel').notNull(),
  specimenType: text('specimen_type').notNull(),
  drawnDatetime: text('drawn_datetime').notNull(),
  itemCount: integer('item_count').notNull(),
}, (t) => [uniqueIndex('specimen_requisition_nk').on(t.requisitionIdentifier)]);

/** Result of scanning physical specimens against pulled requisitions (middleman, site). */
export const specimenReconciliation = sqliteTable('specimen_reconciliation', {
  ...syncColumns(),
  reconciliationIdentifier: text('reconciliation_identifier').notNull(),
  reconciledAt: text('reconciled_at').notNull(),
  location: text('location').notNull(),
  /** JSON arrays of requisition identifiers. */
  matched: text('matched').notNull(),
  missing: text('missing').notNull(),
  unexpected: text('unexpected').notNull(),
}, (t) => [uniqueIndex('specimen_reconciliation_nk').on(t.reconciliationIdentifier)]);

/**
 * CRF: follow-up, one per subject and visit code: the typical ~1 KB form of a longitudinal study (vitals, labs,
 * treatment, a comment) with a contact person's name and phone (PII). Keyed by subject identifier, not by a visit
 * row, so forms can be entered for subjects registered on another device.
 */
export const followUp = sqliteTable('follow_up', {
  ...syncColumns(),
  subjectIdentifier: text('subject_identifier').notNull(),
  visitCode: text('visit_code').notNull(),
  reportDatetime: text('report_datetime').notNull(),
  weightKg: real('weight_kg'),
  heightCm: real('height_cm'),
  systolic: integer('systolic'),
  diastolic: integer('diastolic'),
  pulse: integer('pulse'),
  temperatureC: real('temperature_c'),
  respiratoryRate: integer('respiratory_rate'),
  haemoglobin: real('haemoglobin'),
  cd4Count: integer('cd4_count'),
  viralLoad: integer('viral_load'),
  onArt: text('on_art', { enum: ['yes', 'no', 'unknown'] }).notNull(),
  artRegimen: text('art_regimen'),
  adherence: text('adherence', { enum: ['good', 'fair', 'poor', 'not_applicable'] }).notNull(),
  missedDoses: integer('missed_doses'),
  tbSymptoms: text('tb_symptoms', { enum: ['none', 'cough', 'fever', 'night_sweats', 'weight_loss'] }).notNull(),
  pregnancyStatus: text('pregnancy_status', { enum: ['yes', 'no', 'not_applicable'] }).notNull(),
  smoking: text('smoking', { enum: ['never', 'former', 'current'] }).notNull(),
  lastMenstrualDate: text('last_menstrual_date'),
  nextAppointmentDate: text('next_appointment_date'),
  comment: text('comment'),
  contactName: text('contact_name'),
  contactNameHash: text('contact_name_hash'),
  contactPhone: text('contact_phone'),
  contactPhoneHash: text('contact_phone_hash'),
}, (t) => [uniqueIndex('follow_up_nk').on(t.subjectIdentifier, t.visitCode)]);

/**
 * Chain of custody: one record per hand-over of specimen tubes (laptop → driver at a pull, driver → lab at the site,
 * or any re-handover). The giving device states what it hands over (`tubes`, at its clock) and signs it; the
 * receiving device states what it scanned (matched / missing / unexpected with a reason each, at its clock) and signs
 * that. See electron/core/custody.ts for the signed bytes and the chain check.
 */
export const specimenCustody = sqliteTable('specimen_custody', {
  ...syncColumns(),
  custodyIdentifier: text('custody_identifier').notNull(),
  kind: text('kind', { enum: ['pull', 'delivery', 'handover'] }).notNull(),
  fromDevice: text('from_device').notNull(),
  /** Null while a hand-over is offered and not yet received (a driver's delivery before the lab scanned it). */
  toDevice: text('to_device'),
  /** JSON: what the hand-over was reconciled against (the pull, a laptop's day, a driver's delivery). */
  scope: text('scope').notNull(),
  /** Giver's statement: when (its clock) and which tubes (JSON array of requisition identifiers), signed. */
  handedAt: text('handed_at').notNull(),
  tubes: text('tubes').notNull(),
  handoverKey: text('handover_key'),
  handoverSig: text('handover_sig'),
  /** Receiver's statement: when (its clock), what it scanned, a reason for every missing or unexpected tube, signed. */
  receivedAt: text('received_at'),
  matched: text('matched'),
  missing: text('missing'),
  unexpected: text('unexpected'),
  /** JSON {identifier: {reason, note}} for each missing and unexpected tube. */
  reasons: text('reasons'),
  receiptKey: text('receipt_key'),
  receiptSig: text('receipt_sig'),
  reconciliationIdentifier: text('reconciliation_identifier'),
}, (t) => [uniqueIndex('specimen_custody_nk').on(t.custodyIdentifier)]);

/**
 * A data manager's decision to set aside a received transaction that can never apply (core/set-aside.ts): the
 * transaction stays on record, no longer counted as a problem or retried. A synced model, so the decision is in the
 * audit history and travels on: a receiver further on sets aside its own copy when the decision reaches it.
 */
export const setAside = sqliteTable('set_aside', {
  ...syncColumns(),
  transactionId: text('transaction_id').notNull(),
  producer: text('producer').notNull(),
  producerSeq: integer('producer_seq').notNull(),
  txName: text('tx_name').notNull(),
  txPk: text('tx_pk').notNull(),
  reason: text('reason').notNull(),
  /** The failed transaction a person chose, when this one is set aside as its dependant (null: this is the one). */
  rootTransactionId: text('root_transaction_id'),
}, (t) => [uniqueIndex('set_aside_nk').on(t.transactionId)]);

// ---------------------------------------------------------------- audit history (written with every change)

export const auditHistory = sqliteTable('audit_history', {
  id: text('id').primaryKey(),
  txName: text('tx_name').notNull(),
  recordId: text('record_id').notNull(),
  action: text('action', { enum: ['I', 'U', 'D'] }).notNull(),
  revision: integer('revision').notNull(),
  /** JSON {column: [old, new]} of stored values (PII stays ciphertext). */
  changes: text('changes').notNull(),
  user: text('user').notNull(),
  hostname: text('hostname').notNull(),
  deviceId: text('device_id').notNull(),
  at: text('at').notNull(),
  transactionId: text('transaction_id'),
  /** Why the change was made, when the person said (e.g. a corrected draw time); travels in the payload's history. */
  reason: text('reason'),
}, (t) => [index('audit_history_record').on(t.txName, t.recordId)]);

// ---------------------------------------------------------------- transaction log

export const outgoingTransaction = sqliteTable('outgoing_transaction', {
  id: text('id').primaryKey(),
  producer: text('producer').notNull(),
  producerSeq: integer('producer_seq').notNull(),
  txName: text('tx_name').notNull(),
  txPk: text('tx_pk').notNull(),
  action: text('action', { enum: ['I', 'U', 'D'] }).notNull(),
  timestamp: text('timestamp').notNull(),
  schemaVersion: integer('schema_version').notNull(),
  keyId: text('key_id').notNull(),
  tx: blob('tx', { mode: 'buffer' }).notNull(),
  /** The producer's Ed25519 signature over every envelope field and the ciphertext (core/envelope.ts); null: made before signing. */
  sig: text('sig'),
  isConsumedMiddleman: integer('is_consumed_middleman', { mode: 'boolean' }).notNull().default(false),
  consumedMiddlemanAt: text('consumed_middleman_at'),
  consumerMiddleman: text('consumer_middleman'),
  isConsumedServer: integer('is_consumed_server', { mode: 'boolean' }).notNull().default(false),
  consumedServerAt: text('consumed_server_at'),
  consumerServer: text('consumer_server'),
  batchId: text('batch_id'),
  batchSeq: integer('batch_seq'),
}, (t) => [
  // Pending work is found by walking producer_seq upward from the lowest pending one: no flag index to maintain.
  uniqueIndex('outgoing_producer_seq').on(t.producer, t.producerSeq),
]);

export const incomingTransaction = sqliteTable('incoming_transaction', {
  id: text('id').primaryKey(),
  producer: text('producer').notNull(),
  producerSeq: integer('producer_seq').notNull(),
  txName: text('tx_name').notNull(),
  txPk: text('tx_pk').notNull(),
  action: text('action', { enum: ['I', 'U', 'D'] }).notNull(),
  timestamp: text('timestamp').notNull(),
  schemaVersion: integer('schema_version').notNull(),
  keyId: text('key_id').notNull(),
  tx: blob('tx', { mode: 'buffer' }).notNull(),
  /** As it arrived (verified at ingest under the producer's key); null: an unsigned envelope of a device with no key registered yet. */
  sig: text('sig'),
  receivedAt: text('received_at').notNull(),
  receivedVia: text('received_via', { enum: ['rest', 'middleman', 'file', 'copy'] }).notNull(),
  batchId: text('batch_id'),
  isConsumed: integer('is_consumed', { mode: 'boolean' }).notNull().default(false),
  consumedAt: text('consumed_at'),
  isIgnored: integer('is_ignored', { mode: 'boolean' }).notNull().default(false),
  isError: integer('is_error', { mode: 'boolean' }).notNull().default(false),
  /** When a data manager set it aside (core/set-aside.ts): consumed and ignored, the reason in `error`. */
  setAsideAt: text('set_aside_at'),
  error: text('error'),
  /** Set when the change was not applied because the record changed elsewhere meanwhile; see sync_conflict. */
  isConflict: integer('is_conflict', { mode: 'boolean' }).notNull().default(false),
  deferredCount: integer('deferred_count').notNull().default(0),
  deferredReason: text('deferred_reason'),
  /** When the next hop acknowledged this transaction, forwarded unchanged (middleman → site by REST, site → central by file). */
  forwardedAt: text('forwarded_at'),
  /** Site: the export batch that carries this transaction on to central. */
  exportBatchId: text('export_batch_id'),
  /** When it was first deferred (a parent still on its way): the age of the wait. */
  deferredSince: text('deferred_since'),
  /**
   * Not applied because a transaction it depends on failed (its parent's or its own insert is in error): the id
   * of that failed transaction. The producer's cursor moves on; retrying the failed one applies these after it.
   */
  blockedBy: text('blocked_by'),
  blockedReason: text('blocked_reason'),
  /** This receiver asked the sender for the transaction again (undecryptable or invalid here, or a person asked). */
  resendRequestedAt: text('resend_requested_at'),
  /** A copy arrived after the request (a good copy replaces the bad one and is applied). */
  resendAnsweredAt: text('resend_answered_at'),
  /** How often it was asked for automatically (bounded: a copy damaged at its source fails every time). */
  resendCount: integer('resend_count').notNull().default(0),
  /** A replacement copy arrived: the next consume applies it (and what it blocked) first. */
  retryDue: integer('retry_due', { mode: 'boolean' }).notNull().default(false),
  /** The hand-over it arrived in (receive_session): one push session, one pull, one file. */
  sessionId: text('session_id'),
}, (t) => [
  // Everything at or below a producer's cursor is dealt with; pending work is producer_seq > cursor on this index.
  uniqueIndex('incoming_producer_seq').on(t.producer, t.producerSeq),
  // The Consumed batches screen groups by batch.
  index('incoming_batch').on(t.batchId, t.receivedVia),
  // A receipt for an exported batch finds its transactions without a scan.
  index('incoming_export_batch').on(t.exportBatchId),
  // Partial indexes: only failed, blocked or resend-requested rows are in them, so ingest of good ones pays nothing.
  index('incoming_failed_pk').on(t.txPk).where(sql`is_error = 1 OR blocked_by IS NOT NULL`),
  index('incoming_blocked_by').on(t.blockedBy).where(sql`blocked_by IS NOT NULL`),
  index('incoming_resend').on(t.producer).where(sql`resend_requested_at IS NOT NULL AND resend_answered_at IS NULL`),
  index('incoming_retry_due').on(t.retryDue).where(sql`retry_due = 1`),
  // A session's requests and transactions; the partial one holds only what needs a look (the "with problems" filter).
  index('incoming_session').on(t.sessionId, t.batchId),
  index('incoming_problem_session').on(t.sessionId).where(sql`is_error = 1 OR is_conflict = 1 OR blocked_by IS NOT NULL OR (is_consumed = 0 AND deferred_count > 0)`),
]);

/**
 * One hand-over as the Consumed batches screen shows it: every request of one push session (the pushing device
 * sends an id with each request; an older device without one is grouped by device and a quiet gap), one pull, one
 * file. Counters are kept at ingest so a page of sessions is read without scanning transactions.
 */
export const receiveSession = sqliteTable('receive_session', {
  id: text('id').primaryKey(),
  via: text('via', { enum: ['rest', 'middleman', 'file', 'copy'] }).notNull(),
  /** Who handed it over: the pushing device, the laptop a middleman pulled from, a file's exporter. */
  device: text('device').notNull(),
  /** The id the pushing device sent (null: an older device, a pull, a file). */
  clientSession: text('client_session'),
  /** A file's name. */
  label: text('label'),
  startedAt: text('started_at').notNull(),
  lastAt: text('last_at').notNull(),
  requests: integer('requests').notNull().default(0),
  /** Transactions stored from it (duplicates are not counted: they stay with the session that brought them first). */
  transactions: integer('transactions').notNull().default(0),
  /** The producers of those transactions, comma-separated and sorted (a middleman carries several laptops'). */
  producers: text('producers').notNull().default(''),
}, (t) => [
  index('receive_session_last').on(t.lastAt),
  index('receive_session_device').on(t.device, t.lastAt),
  uniqueIndex('receive_session_client').on(t.device, t.clientSession),
]);

/** Per producer: the highest producerSeq up to which every transaction has been dealt with (applied, error or conflict). */
export const producerCursor = sqliteTable('producer_cursor', {
  producer: text('producer').primaryKey(),
  appliedSeq: integer('applied_seq').notNull(),
  updatedAt: text('updated_at').notNull(),
});

/** An update or delete whose base revision did not match: both versions kept for review, nothing applied. */
export const syncConflict = sqliteTable('sync_conflict', {
  id: integer('id').primaryKey({ autoIncrement: true }),
  incomingId: text('incoming_id').notNull().references(() => incomingTransaction.id),
  txName: text('tx_name').notNull(),
  txPk: text('tx_pk').notNull(),
  localRevision: integer('local_revision'),
  incomingBaseRevision: integer('incoming_base_revision').notNull(),
  /** JSON of the local row and of the incoming record (stored form: PII stays ciphertext). */
  localRecord: text('local_record'),
  incomingRecord: text('incoming_record').notNull(),
  detectedAt: text('detected_at').notNull(),
  resolvedAt: text('resolved_at'),
  /** How a person settled it: kept the version here, or took the incoming one (written through the write path). */
  resolution: text('resolution', { enum: ['keep-here', 'take-incoming'] }),
  resolvedBy: text('resolved_by'),
}, (t) => [uniqueIndex('sync_conflict_incoming').on(t.incomingId)]);

// ---------------------------------------------------------------- local device state (never synced)

/** Small key/value facts of this device: identifier counters, last sync time. */
export const deviceState = sqliteTable('device_state', {
  key: text('key').primaryKey(),
  value: text('value').notNull(),
});


// ---------------------------------------------------------------- the fleet: what other devices announced (never synced)

/**
 * Per device heard from (directly, or carried by a middleman or in a site's batch file): maintained incrementally at
 * every contact, push batch, pull and import, so the Devices screen reads one row per device and never scans the
 * transaction log. Times are this device's clock; a device's own clock reading only feeds clock_reading.
 */
export const fleetDevice = sqliteTable('fleet_device', {
  deviceId: text('device_id').primaryKey(),
  role: text('role', { enum: ['field', 'middleman', 'site', 'central'] }),
  firstSeenAt: text('first_seen_at').notNull(),
  lastSeenAt: text('last_seen_at').notNull(),
  /** How it was last heard: contact, push, share (a pull), middleman (carried), file. */
  lastVia: text('last_via').notNull(),
  /** The latest producerSeq it announced. */
  madeSeq: integer('made_seq'),
  /** Contiguous high-water mark of its transactions held here. */
  receivedSeq: integer('received_seq').notNull().default(0),
  /** Middleman: what the site said it holds of this producer (contiguous). */
  siteSeq: integer('site_seq'),
  /** What central holds of this producer: contiguous mark and JSON ranges of exceptions above it. */
  centralSeq: integer('central_seq'),
  centralExtra: text('central_extra'),
  appVersion: text('app_version'),
  schemaVersion: integer('schema_version'),
  /** JSON array of key ids. */
  keyIds: text('key_ids'),
  /** Its clock minus ours at the last live contact (ms). */
  clockSkewMs: integer('clock_skew_ms'),
  updatedAt: text('updated_at').notNull(),
});

/** Clock skew of a device at each live contact (its clock minus ours): a history, never used for ordering. */
export const clockReading = sqliteTable('clock_reading', {
  id: integer('id').primaryKey({ autoIncrement: true }),
  deviceId: text('device_id').notNull(),
  at: text('at').notNull(),
  deviceClock: text('device_clock').notNull(),
  skewMs: integer('skew_ms').notNull(),
  via: text('via').notNull(),
}, (t) => [index('clock_reading_device').on(t.deviceId, t.id)]);

// ---------------------------------------------------------------- site/central server: devices and pairing (never synced)

/** A paired device. Only a SHA-256 of its token is kept; revoking sets revoked_at and the token stops working. */
export const device = sqliteTable('device', {
  deviceId: text('device_id').primaryKey(),
  role: text('role', { enum: ['field', 'middleman', 'site', 'central'] }).notNull(),
  tokenHash: text('token_hash').notNull(),
  pairedAt: text('paired_at').notNull(),
  revokedAt: text('revoked_at'),
  lastSeenAt: text('last_seen_at'),
  /** The device's Ed25519 public key (base64url raw), presented at pairing or, for a device paired before keys, at its first contact. */
  publicKey: text('public_key'),
}, (t) => [uniqueIndex('device_token_hash').on(t.tokenHash)]);

/** Administrators' actions on devices (pair, replace, revoke, reinstate, key registered): who, when, what. */
export const deviceEvent = sqliteTable('device_event', {
  id: integer('id').primaryKey({ autoIncrement: true }),
  deviceId: text('device_id').notNull(),
  action: text('action', { enum: ['code-issued', 'paired', 'replaced', 'revoked', 'reinstated', 'key-registered'] }).notNull(),
  at: text('at').notNull(),
  actor: text('actor').notNull(),
  detail: text('detail'),
}, (t) => [index('device_event_device').on(t.deviceId)]);

/** One-time pairing codes shown on the server (hashed, short expiry). */
export const pairingCode = sqliteTable('pairing_code', {
  codeHash: text('code_hash').primaryKey(),
  createdAt: text('created_at').notNull(),
  expiresAt: text('expires_at').notNull(),
  usedAt: text('used_at'),
  usedBy: text('used_by'),
  /** The device id and role the code was issued for (null: a code from before, which pairs nothing any more). */
  deviceId: text('device_id'),
  role: text('role', { enum: ['field', 'middleman', 'site', 'central'] }),
  /** 'replace': the code lets a new machine take over this device id (an administrator's recorded decision). */
  purpose: text('purpose', { enum: ['pair', 'replace'] }),
});

// ---------------------------------------------------------------- file transfer (never synced)

/**
 * Batches this device exported. A batch is allocated (status 'pending', its transactions assigned) in one SQLite
 * transaction before its file is written, so a crash never leaves a batch number without its transactions: the
 * next export writes pending batches again, byte for byte the same.
 */
export const fileBatch = sqliteTable('file_batch', {
  batchId: text('batch_id').primaryKey(),
  batchSeq: integer('batch_seq').notNull(),
  previousBatchId: text('previous_batch_id'),
  status: text('status', { enum: ['pending', 'written', 'sent', 'acknowledged'] }).notNull(),
  fileName: text('file_name').notNull(),
  count: integer('count').notNull(),
  sha256: text('sha256'),
  bytes: integer('bytes'),
  createdAt: text('created_at').notNull(),
  writtenAt: text('written_at'),
  sentAt: text('sent_at'),
  acknowledgedAt: text('acknowledged_at'),
  /** The receiver's receipt (JSON) once delivery was acknowledged. */
  receipt: text('receipt'),
  /** The manifest exactly as first written: `export --resend` writes the batch again byte for byte. */
  manifest: text('manifest'),
}, (t) => [uniqueIndex('file_batch_seq').on(t.batchSeq)]);

/** Every batch file an import looked at, and what became of it. */
export const fileImport = sqliteTable('file_import', {
  id: integer('id').primaryKey({ autoIncrement: true }),
  fileName: text('file_name').notNull(),
  batchId: text('batch_id'),
  producer: text('producer'),
  batchSeq: integer('batch_seq'),
  status: text('status', { enum: ['imported', 'skipped', 'quarantined'] }).notNull(),
  reason: text('reason'),
  count: integer('count'),
  accepted: integer('accepted'),
  duplicates: integer('duplicates'),
  sha256: text('sha256'),
  at: text('at').notNull(),
}, (t) => [
  index('file_import_batch').on(t.batchId),
  index('file_import_producer_seq').on(t.producer, t.batchSeq),
]);

// ---------------------------------------------------------------- web UI accounts (site/central; never synced)

/** `edc-sync user add`: who may log in to the web UI, with what role. Passwords are scrypt hashes. */
export const webUser = sqliteTable('web_user', {
  username: text('username').primaryKey(),
  role: text('role', { enum: ['research-assistant', 'lab-assistant', 'data-manager', 'admin'] }).notNull(),
  passwordHash: text('password_hash').notNull(),
  createdAt: text('created_at').notNull(),
  updatedAt: text('updated_at').notNull(),
});

/** Web UI sessions: the cookie holds a random token, the store only its hash. */
export const webSession = sqliteTable('web_session', {
  tokenHash: text('token_hash').primaryKey(),
  username: text('username').notNull().references(() => webUser.username, { onDelete: 'cascade' }),
  createdAt: text('created_at').notNull(),
  expiresAt: text('expires_at').notNull(),
});
