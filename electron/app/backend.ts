/**
 * The app's handlers: one function per call of the contract (shared/contract.ts), over one device's data folder.
 * Plain Node: the Electron shell runs it in a worker thread, the web host in the server process, the tests directly.
 * Long work reports progress through `emit`; nothing here knows which transport carries it.
 */
import os from 'node:os';
import { existsSync } from 'node:fs';
import path from 'node:path';
import { healthSchema } from '../../shared/api.ts';
import type { CallName } from '../../shared/channels.ts';
import type { AppEvent, CallOutput, ExpectedSpecimen, ParsedInput, PendingRow, ShareState, UserRole } from '../../shared/contract.ts';
import { permissionsOf } from '../../shared/contract.ts';
import { EdcError } from '../../shared/errors.ts';
import { reconcile } from '../../shared/reconcile.ts';
import { Consumer } from '../core/consumer.ts';
import { listConflicts, resolveConflict } from '../core/conflicts.ts';
import { installKeyFile, installKeySetText } from '../core/crypto/keyset.ts';
import { MODELS, toJs } from '../core/domain/registry.ts';
import { Study } from '../core/domain/study.ts';
import { envelopeAad, type EnvelopeRow, type RawRow } from '../core/envelope.ts';
import type { TxName } from '../../shared/domain.ts';
import { withSetting } from '../core/settings-file.ts';
import { readStatus } from '../core/status.ts';
import { DB_FILE, Store } from '../core/store.ts';
import { APP_VERSION } from '../core/version.ts';
import { exportBatches } from '../files/export.ts';
import { importBatches } from '../files/import.ts';
import { send } from '../files/send.ts';
import { HttpClient } from '../sync/client.ts';
import { pull } from '../sync/pull.ts';
import { push } from '../sync/push.ts';
import { pair, readServerLink } from '../sync/server-link.ts';
import { startShare, type Share } from '../sync/share.ts';

/** Who is calling: a web account, or the desktop app's local user (role null: every permission). */
export interface Principal {
  username: string;
  role: UserRole | null;
}

export type BackendHandlers = { [K in CallName]: (input: ParsedInput<K>, who: Principal) => Promise<CallOutput<K>> };

export interface BackendOptions {
  dataDir: string;
  host: 'desktop' | 'web';
  emit: (e: AppEvent) => void;
  /** An already open store (the web host shares the server's); otherwise opened here when the folder holds one. */
  store?: Store;
}

export interface Backend {
  handlers: BackendHandlers;
  /** The open store, or null before the device is set up. */
  store(): Store | null;
  close(): Promise<void>;
}

/** What Send files needs (the same list `send` checks). */
const SFTP_SETTINGS = ['remoteServerHost', 'remoteUser', 'privateKeyPath', 'hostKeyFingerprint', 'remoteTransactionDir'] as const;

const IDLE_SHARE: ShareState = { active: false, url: null, code: null, middleman: null, acknowledged: 0, waiting: 0, closedReason: null };

export function createBackend(opts: BackendOptions): Backend {
  let store: Store | null = opts.store ?? (existsSync(path.join(opts.dataDir, DB_FILE)) ? Store.open(opts.dataDir) : null);
  const ownsStore = !opts.store;
  const need = (): Store => {
    if (!store) throw new EdcError('NOT_SET_UP');
    return store;
  };
  const study = (): Study => new Study(need());
  const actor = (who: Principal) => ({ user: who.username });
  const running = new Set<string>();
  /** One run of each long operation at a time (a second press while it runs is refused, not queued). */
  const exclusive = async <T>(op: string, fn: () => Promise<T>): Promise<T> => {
    if (running.has(op)) throw new EdcError('BUSY', op);
    running.add(op);
    try {
      return await fn();
    } finally {
      running.delete(op);
    }
  };
  const progress = (op: 'sync.run' | 'pull.run' | 'files.send' | 'files.import' | 'batches.retry') => {
    let last = 0;
    return (p: { phase?: string; done: number; total: number }) => {
      const now = Date.now();
      if (p.done !== p.total && now - last < 100) return; // at most ~10 events a second
      last = now;
      opts.emit({ type: 'progress', op, phase: p.phase ?? op, done: p.done, total: p.total });
    };
  };
  const changed = (what: 'status' | 'batches') => opts.emit({ type: 'changed', what });

  let share: Share | null = null;
  let shareState: ShareState = IDLE_SHARE;
  const setShare = (next: ShareState) => {
    shareState = next;
    opts.emit({ type: 'share', state: next });
  };

  const rowOf = (txName: string, row: RawRow): Record<string, unknown> => toJs(MODELS.get(txName)!, row);
  const subjectSummary = (row: RawRow) => {
    const s = rowOf('edc.subject', study().decrypted('edc.subject', row));
    return {
      id: String(s.id), subjectIdentifier: String(s.subjectIdentifier), firstName: String(s.firstName), lastName: String(s.lastName),
      dob: String(s.dob), gender: s.gender as 'M' | 'F', registrationDatetime: String(s.registrationDatetime),
    };
  };
  const requisitionOf = (row: RawRow) => {
    const r = rowOf('edc.specimen_requisition', row);
    return {
      id: String(r.id), requisitionIdentifier: String(r.requisitionIdentifier), visitId: String(r.visitId), panel: String(r.panel),
      specimenType: String(r.specimenType), drawnDatetime: String(r.drawnDatetime), itemCount: Number(r.itemCount),
    };
  };
  const outgoingRow = (r: Record<string, unknown>): PendingRow => ({
    id: String(r.id), producer: String(r.producer), producerSeq: Number(r.producer_seq), txName: String(r.tx_name),
    action: r.action as PendingRow['action'], timestamp: String(r.timestamp), keyId: String(r.key_id),
    state: r.is_consumed_server ? 'delivered' : r.is_consumed_middleman ? 'pending-server' : 'pending-middleman',
    batchId: (r.batch_id as string | null) ?? null,
  });

  const incomingRow = (r: Record<string, unknown>): PendingRow => ({
    id: String(r.id), producer: String(r.producer), producerSeq: Number(r.producer_seq), txName: String(r.tx_name),
    action: r.action as PendingRow['action'], timestamp: String(r.timestamp), keyId: String(r.key_id),
    state: r.forwarded_at ? 'delivered' : 'pending-server', batchId: (r.batch_id as string | null) ?? null,
  });

  const handlers: BackendHandlers = {
    'app.info': async (_input, who) => {
      const s = store;
      let paired = false;
      if (s) {
        try {
          readServerLink(s.dir);
          paired = true;
        } catch {
          paired = false;
        }
      }
      return {
        initialised: s !== null,
        deviceRole: s?.role ?? null,
        deviceId: s?.deviceId ?? null,
        siteCode: s?.settings.siteCode ?? null,
        hasKeys: s?.hasKeys() ?? false,
        paired,
        version: APP_VERSION,
        host: opts.host,
        user: { username: who.username, role: who.role },
        permissions: [...permissionsOf(who.role)],
        addresses: localAddresses(),
        // Paths and addresses of the device's set-up are for the people who may change them.
        settings: s && permissionsOf(who.role).includes('configure') ? { ...s.settings } : null,
      };
    },

    'device.setup': async (input) => {
      const done: string[] = [];
      if (input.role || input.deviceId) {
        if (store) throw new EdcError('DATA_DIR_EXISTS', opts.dataDir);
        if (!input.role || !input.deviceId) throw new EdcError('INPUT_INVALID', 'choose both a role and a device id');
        store = Store.init(opts.dataDir, input.role, input.deviceId, input.siteCode ? { siteCode: input.siteCode } : {});
        done.push(`set up as ${input.role} device ${input.deviceId}`);
      }
      if (input.keyFile || input.keySetJson) {
        const set = input.keySetJson ? installKeySetText(need(), input.keySetJson, 'the chosen key file') : installKeyFile(need(), path.resolve(input.keyFile!));
        done.push(`key set of project ${set.projectId} installed (${set.file.keys.length} key(s))`);
      }
      if (input.server) {
        const link = await pair(need(), input.server.url, input.server.code);
        done.push(`paired with server ${link.serverDeviceId} at ${link.url}`);
      }
      if (done.length === 0) throw new EdcError('INPUT_INVALID', 'nothing to do: give a role and device id, a key file or a server and code');
      changed('status');
      return { done };
    },

    'settings.update': async ({ key, value }) => {
      const s = need();
      if (key === 'role' || key === 'deviceId') throw new EdcError('SETTING_VALUE_INVALID', `${key} is fixed when the device is set up`);
      s.saveSettings(withSetting(s.settings, key, value));
      return { settings: { ...s.settings } };
    },

    'status.get': async () => readStatus(need()),

    'server.check': async () => {
      const s = need();
      let url: string;
      try {
        url = readServerLink(s.dir).url;
      } catch (e) {
        return { configured: false, reachable: false, url: null, message: e instanceof EdcError ? e.message : String(e) };
      }
      try {
        const h = await new HttpClient({ baseURL: url, attempts: 1, timeoutMs: 4000 }).get('/api/v1/health', healthSchema);
        return { configured: true, reachable: true, url, message: `${h.role} server ${h.deviceId} is reachable` };
      } catch (e) {
        return { configured: true, reachable: false, url, message: e instanceof EdcError ? e.message : String(e) };
      }
    },

    'sync.run': async () => exclusive('sync.run', async () => {
      const s = need();
      const r = await push(s, { onProgress: progress('sync.run') });
      changed('status');
      const message = r.rejected.length
        ? `The server refused ${r.rejected.length} transaction(s): ${r.rejected[0]!.reason}. They stay here; tell the data manager.`
        : r.sent === 0 ? 'Nothing was waiting: the server has everything from this device.'
          : `Sent ${r.sent} transaction(s): ${r.accepted} new at the server, ${r.duplicates} it already had. Nothing is waiting.`;
      return { sent: r.sent, accepted: r.accepted, duplicates: r.duplicates, rejected: r.rejected.length, message };
    }),

    'subjects.search': async ({ query }) => {
      const s = need();
      if (query === '') {
        return (s.sql.prepare('SELECT * FROM subject ORDER BY created DESC LIMIT 50').all() as RawRow[]).map(subjectSummary);
      }
      const byIdentifier = s.sql.prepare('SELECT * FROM subject WHERE subject_identifier = ?').all(query.toUpperCase()) as RawRow[];
      const byIdentity = study().findSubjectsByIdentityNumber(query).map((r) => s.sql.prepare('SELECT * FROM subject WHERE id = ?').get(r.id) as RawRow);
      const seen = new Set<string>();
      return [...byIdentifier, ...byIdentity].filter((r) => !seen.has(String(r.id)) && seen.add(String(r.id))).map(subjectSummary);
    },

    'subjects.register': async (input, who) => subjectSummary(study().registerSubject({ ...input, registrationDatetime: new Date().toISOString() }, actor(who))),

    'subjects.get': async ({ id }) => {
      const s = need();
      const row = s.sql.prepare('SELECT * FROM subject WHERE id = ?').get(id) as RawRow | undefined;
      if (!row) throw new EdcError('RECORD_NOT_FOUND', `subject ${id}`);
      const visits = s.sql.prepare('SELECT * FROM visit WHERE subject_id = ? ORDER BY visit_datetime, visit_code, visit_code_sequence').all(id) as RawRow[];
      const one = (table: string, visitId: unknown) => s.sql.prepare(`SELECT * FROM "${table}" WHERE visit_id = ?`).get(visitId) as RawRow | undefined;
      const consents = (s.sql.prepare('SELECT * FROM consent WHERE subject_id = ? ORDER BY consent_datetime').all(id) as RawRow[]).map((c) => {
        const js = rowOf('edc.consent', c);
        return { id: String(js.id), version: String(js.version), consentDatetime: String(js.consentDatetime), isLiterate: Boolean(js.isLiterate), language: String(js.language) };
      });
      return {
        subject: subjectSummary(row),
        consents,
        visits: visits.map((v) => {
          const vis = rowOf('edc.visit', v);
          const vs = one('vital_signs', v.id);
          const mh = one('medical_history', v.id);
          const pick = <T extends string>(txName: string, r: RawRow | undefined, keys: readonly T[]) => {
            if (!r) return null;
            const js = rowOf(txName, r);
            return Object.fromEntries(['id', ...keys].map((k) => [k, js[k] ?? null]));
          };
          return {
            id: String(vis.id), visitCode: String(vis.visitCode), visitCodeSequence: Number(vis.visitCodeSequence),
            visitDatetime: String(vis.visitDatetime), reason: String(vis.reason),
            vitalSigns: pick('edc.vital_signs', vs, ['weightKg', 'heightCm', 'systolic', 'diastolic', 'temperatureC'] as const) as never,
            medicalHistory: pick('edc.medical_history', mh, ['hypertension', 'diabetes', 'hivStatus', 'currentMedications'] as const) as never,
            requisitions: (s.sql.prepare('SELECT * FROM specimen_requisition WHERE visit_id = ? ORDER BY requisition_identifier').all(v.id) as RawRow[]).map(requisitionOf),
          };
        }),
      };
    },

    'consent.save': async (input, who) => ({ id: String(study().write.insert('edc.consent', input, actor(who)).id) }),

    'visits.add': async (input, who) => ({ id: String(study().write.insert('edc.visit', input, actor(who)).id) }),

    'crf.vitalSigns.save': async (input, who) => ({ id: String(upsertByVisit(need(), study(), 'edc.vital_signs', input, actor(who)).id) }),

    'crf.medicalHistory.save': async (input, who) => ({ id: String(upsertByVisit(need(), study(), 'edc.medical_history', input, actor(who)).id) }),

    'requisitions.create': async ({ visitId, drawnDatetime, specimens }, who) => {
      const st = study();
      if (!need().sql.prepare('SELECT 1 FROM visit WHERE id = ?').get(visitId)) throw new EdcError('RECORD_NOT_FOUND', `visit ${visitId}`);
      const rows = st.write.batch(() => specimens.map((sp) => st.requisition({ visitId, drawnDatetime, ...sp }, actor(who))));
      return rows.map(requisitionOf);
    },

    'pending.list': async ({ source, txName, state, page, pageSize }) => {
      const s = need();
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
      const total = (s.sql.prepare(`SELECT count(*) AS n FROM ${table} ${w}`).get(...args) as { n: number }).n;
      const rows = s.sql.prepare(`SELECT id, producer, producer_seq, tx_name, action, timestamp, key_id, batch_id, ${cols}
        FROM ${table} ${w} ORDER BY ${forwarding ? 'received_at DESC, producer, producer_seq DESC' : 'producer_seq DESC'} LIMIT ? OFFSET ?`)
        .all(...args, pageSize, page * pageSize) as Record<string, unknown>[];
      return { rows: rows.map(forwarding ? incomingRow : outgoingRow), total };
    },

    'pending.open': async ({ id }) => {
      const s = need();
      const own = s.sql.prepare('SELECT * FROM outgoing_transaction WHERE id = ?').get(id) as Record<string, unknown> | undefined;
      const received = own ? undefined : s.sql.prepare('SELECT * FROM incoming_transaction WHERE id = ?').get(id) as Record<string, unknown> | undefined;
      const r = own ?? received;
      if (!r) throw new EdcError('RECORD_NOT_FOUND', `transaction ${id}`);
      return { row: own ? outgoingRow(r) : incomingRow(r), content: decryptOutgoing(s, r) };
    },

    'share.start': async ({ host, idleMinutes }) => {
      const s = need();
      if (share) throw new EdcError('SHARE_ACTIVE');
      const waiting = () => (s.sql.prepare('SELECT count(*) AS n FROM outgoing_transaction WHERE is_consumed_server = 0 AND is_consumed_middleman = 0').get() as { n: number }).n;
      let acknowledged = 0;
      const started = await startShare(s, {
        host, port: 0, idleMs: idleMinutes * 60_000,
        onSession: (middleman) => setShare({ ...shareState, middleman }),
        onAck: (p) => {
          acknowledged = p.acknowledged;
          setShare({ ...shareState, acknowledged, waiting: p.total });
        },
      });
      share = started;
      setShare({ active: true, url: started.url, code: started.code, middleman: null, acknowledged: 0, waiting: waiting(), closedReason: null });
      void started.closed.then((why) => {
        share = null;
        setShare({ ...shareState, active: false, code: null, closedReason: why, waiting: waiting() });
        changed('status');
      });
      return shareState;
    },

    'share.stop': async () => {
      if (share) await share.stop();
      return shareState;
    },

    'share.state': async () => shareState,

    'pull.run': async ({ url, code }) => exclusive('pull.run', async () => {
      const r = await pull(need(), url, code, { onProgress: progress('pull.run') });
      changed('status');
      return { producer: r.producer, received: r.received, duplicates: r.duplicates, rejected: r.rejected.length, consumed: r.consumed };
    }),

    'reconciliation.expected': async ({ producer }) => expectedSpecimens(need(), producer),

    'reconciliation.save': async ({ producer, location, scanned }, who) => {
      const s = need();
      const { specimens } = expectedSpecimens(s, producer);
      const result = reconcile(specimens.map((x) => x.requisitionIdentifier), scanned);
      const row = study().reconcile({
        reconciledAt: new Date().toISOString(), location,
        matched: JSON.stringify(result.matched), missing: JSON.stringify(result.missing), unexpected: JSON.stringify(result.unexpected),
      }, actor(who));
      changed('status');
      return { reconciliationIdentifier: String(row.reconciliation_identifier), ...result };
    },

    'files.overview': async () => {
      const s = need();
      const st = s.settings;
      const configured = SFTP_SETTINGS.every((k) => st[k]);
      const own = (s.sql.prepare('SELECT count(*) AS n FROM outgoing_transaction WHERE is_consumed_server = 0 AND batch_id IS NULL').get() as { n: number }).n;
      const fwd = s.role === 'field' ? 0 : (s.sql.prepare('SELECT count(*) AS n FROM incoming_transaction WHERE export_batch_id IS NULL AND forwarded_at IS NULL').get() as { n: number }).n;
      const batches = (s.sql.prepare('SELECT * FROM file_batch ORDER BY batch_seq DESC LIMIT 200').all() as Record<string, unknown>[]).map((b) => ({
        batchId: String(b.batch_id), batchSeq: Number(b.batch_seq), fileName: String(b.file_name), count: Number(b.count),
        status: b.status as 'pending' | 'written' | 'sent' | 'acknowledged', createdAt: String(b.created_at),
        sentAt: (b.sent_at as string | null) ?? null, acknowledgedAt: (b.acknowledged_at as string | null) ?? null, receipt: (b.receipt as string | null) ?? null,
      }));
      return { configured, target: configured ? `${st.remoteUser}@${st.remoteServerHost}:${st.remoteTransactionDir}` : null, pendingTransactions: own + fwd, batches };
    },

    'files.send': async () => exclusive('files.send', async () => {
      const s = need();
      const missing = SFTP_SETTINGS.filter((k) => !s.settings[k]);
      // Nothing is exported when it cannot be sent (export alone is `edc-sync export`, e.g. to a USB stick).
      if (missing.length) throw new EdcError('SFTP_NOT_CONFIGURED', `missing: ${missing.join(', ')}`);
      const onProgress = progress('files.send');
      const exported = exportBatches(s, undefined, onProgress);
      const r = await send(s, { onProgress });
      changed('status');
      const transactions = r.sent.reduce((n, b) => n + b.count, 0);
      const message = r.sent.length === 0 && exported.batches.length === 0
        ? `Nothing to send.${r.receipts.acknowledged.length ? ` ${r.receipts.acknowledged.length} receipt(s) confirmed earlier files.` : ''}`
        : `Sent ${r.sent.length} file(s) with ${transactions} transaction(s). They count as delivered when the receiver's receipt comes back.`;
      return { exported: exported.batches.length, sent: r.sent.length, transactions, receipts: r.receipts.acknowledged.length, message };
    }),

    'files.import': async () => exclusive('files.import', async () => {
      const r = importBatches(need(), undefined, progress('files.import'));
      changed('batches');
      changed('status');
      const transactions = r.imported.reduce((n, b) => n + b.accepted, 0);
      const waitingFor = r.gaps.map((g) => `batch ${g.from}${g.to > g.from ? `–${g.to}` : ''} from ${g.producer}`);
      const parts = [
        r.imported.length ? `Imported ${r.imported.length} file(s) with ${transactions} new transaction(s); receipts written.` : 'No new files.',
        r.skipped.length ? `${r.skipped.length} already imported (skipped).` : '',
        r.quarantined.length ? `${r.quarantined.length} quarantined: ${r.quarantined[0]!.reason}. Ask the sender to send again.` : '',
        waitingFor.length ? `Waiting for ${waitingFor.join(', ')} before later files can be applied.` : '',
      ];
      return { imported: r.imported.length, transactions, skipped: r.skipped.length, quarantined: r.quarantined.length, waitingFor, message: parts.filter(Boolean).join(' ') };
    }),

    'batches.list': async ({ limit }) => {
      const s = need();
      const rows = s.sql.prepare(`SELECT batch_id, received_via, group_concat(DISTINCT producer) AS producers, min(received_at) AS first,
          count(*) AS total, sum(is_consumed) AS consumed,
          sum(is_consumed = 0 AND is_error = 0 AND is_conflict = 0 AND is_ignored = 0) AS pending,
          sum(is_consumed = 0 AND is_error = 0 AND is_conflict = 0 AND deferred_count > 0) AS deferred,
          sum(is_error) AS error, sum(is_conflict) AS conflicts
        FROM incoming_transaction GROUP BY batch_id, received_via ORDER BY first DESC LIMIT ?`).all(limit) as Record<string, unknown>[];
      return {
        batches: rows.map((r) => ({
          batchId: (r.batch_id as string | null) ?? null, channel: r.received_via as 'rest' | 'middleman' | 'file' | 'copy',
          producers: String(r.producers ?? '').split(',').filter(Boolean).sort(), firstReceivedAt: String(r.first),
          total: Number(r.total), consumed: Number(r.consumed ?? 0), pending: Number(r.pending ?? 0), deferred: Number(r.deferred ?? 0),
          error: Number(r.error ?? 0), conflicts: Number(r.conflicts ?? 0),
        })),
        gaps: new Consumer(s).gaps(),
        quarantined: (s.sql.prepare("SELECT file_name, reason, at FROM file_import WHERE status = 'quarantined' ORDER BY id DESC LIMIT 100").all() as { file_name: string; reason: string | null; at: string }[])
          .map((q) => ({ fileName: q.file_name, reason: q.reason, at: q.at })),
      };
    },

    'batches.transactions': async ({ batchId, channel, onlyProblems }) => {
      const s = need();
      const problems = onlyProblems ? 'AND (is_error = 1 OR is_conflict = 1 OR (is_consumed = 0 AND deferred_count > 0))' : '';
      const rows = s.sql.prepare(`SELECT id, producer, producer_seq, tx_name, action, is_consumed, is_ignored, is_error, error, is_conflict,
          deferred_count, deferred_reason, received_at FROM incoming_transaction
        WHERE batch_id IS ? AND received_via = ? ${problems} ORDER BY producer, producer_seq LIMIT 2000`).all(batchId, channel) as Record<string, unknown>[];
      return {
        rows: rows.map((r) => {
          const state = r.is_error ? 'error' : r.is_conflict ? 'conflict' : r.is_ignored ? 'ignored' : r.is_consumed ? 'consumed' : Number(r.deferred_count) > 0 ? 'deferred' : 'pending';
          const reason = state === 'error' ? (r.error as string | null) : state === 'deferred' ? (r.deferred_reason as string | null) : state === 'conflict' ? 'the record changed here meanwhile; see `edc-sync conflicts`' : null;
          return {
            id: String(r.id), producer: String(r.producer), producerSeq: Number(r.producer_seq), txName: String(r.tx_name),
            action: r.action as 'I' | 'U' | 'D', state, reason: reason ?? null, receivedAt: String(r.received_at),
          } as const;
        }),
      };
    },

    'conflicts.list': async ({ includeResolved }) => ({
      conflicts: listConflicts(need(), { includeResolved }).map((c) => ({
        incomingId: c.incomingId, txName: c.txName, recordId: c.recordId, localRevision: c.localRevision, incomingBaseRevision: c.incomingBaseRevision,
        detectedAt: c.detectedAt, reason: c.reason, differences: c.differences,
        changedHereBy: (c.local?.user_modified as string | undefined) ?? null, changedIncomingBy: (c.incoming.user_modified as string | undefined) ?? null,
        resolvedAt: c.resolvedAt, resolution: c.resolution, resolvedBy: c.resolvedBy, canTakeIncoming: c.canTakeIncoming,
      })),
    }),

    'conflicts.resolve': async ({ incomingId, resolution }, who) => {
      const r = resolveConflict(need(), incomingId, resolution, actor(who));
      changed('status');
      return {
        message: resolution === 'keep-here' ? 'Kept the version here. The incoming change stays on record.'
          : r.recordRevision === null ? 'Took the incoming change: the record is deleted here, and the delete syncs on.'
            : `Took the incoming version (now revision ${r.recordRevision}); the change syncs on like any other.`,
      };
    },

    'batches.retry': async () => exclusive('batches.retry', async () => {
      const s = need();
      s.reloadKeys(); // the usual fix is a key set imported meanwhile (CLI or Device screen)
      const r = new Consumer(s).retryErrors(progress('batches.retry'));
      changed('batches');
      changed('status');
      return r;
    }),
  };

  return {
    handlers,
    store: () => store,
    close: async () => {
      if (share) await share.stop();
      if (ownsStore) store?.close();
      store = null;
    },
  };
}

/** Insert the CRF of a visit, or update it when the visit already has one (one per visit: the natural key). */
function upsertByVisit(store: Store, study: Study, txName: 'edc.vital_signs' | 'edc.medical_history', input: { visitId: string } & Record<string, unknown>, actor: { user: string }): RawRow {
  const table = MODELS.get(txName)!.tableName;
  const row = store.sql.prepare(`SELECT id FROM "${table}" WHERE visit_id = ?`).get(input.visitId) as { id: string } | undefined;
  if (!row) return study.write.insert(txName, input as never, actor);
  const { visitId: _visitId, ...patch } = input;
  return study.write.update(txName, row.id, patch as never, actor);
}

/** Requisitions here not yet matched by any reconciliation record (optionally one laptop's). */
function expectedSpecimens(store: Store, producer?: string): { specimens: ExpectedSpecimen[]; producers: string[] } {
  const reconciled = new Set<string>();
  for (const r of store.sql.prepare('SELECT matched FROM specimen_reconciliation').all() as { matched: string }[]) {
    for (const id of JSON.parse(r.matched) as string[]) reconciled.add(id);
  }
  const rows = store.sql.prepare(`SELECT r.requisition_identifier, r.panel, r.specimen_type, r.drawn_datetime, r.device_id, s.subject_identifier
      FROM specimen_requisition r LEFT JOIN visit v ON v.id = r.visit_id LEFT JOIN subject s ON s.id = v.subject_id
      ORDER BY r.device_id, r.requisition_identifier`).all() as Record<string, string | null>[];
  const all = rows.filter((r) => !reconciled.has(String(r.requisition_identifier))).map((r) => ({
    requisitionIdentifier: String(r.requisition_identifier), subjectIdentifier: r.subject_identifier ?? null, panel: String(r.panel),
    specimenType: String(r.specimen_type), drawnDatetime: String(r.drawn_datetime), producer: String(r.device_id),
  }));
  return { specimens: producer ? all.filter((s) => s.producer === producer) : all, producers: [...new Set(all.map((s) => s.producer))].sort() };
}

/** A transaction's content (outgoing, or received to pass on) for an authorised reader: envelope decrypted, then the PII fields. */
function decryptOutgoing(store: Store, r: Record<string, unknown>): Record<string, unknown> {
  const row = r as unknown as EnvelopeRow;
  let payload: { record?: RawRow; history?: unknown };
  try {
    payload = JSON.parse(store.requireKeys().decrypt(row.key_id, row.tx, envelopeAad(row)).toString('utf8')) as typeof payload;
  } catch (e) {
    if (e instanceof EdcError) throw e;
    throw new EdcError('PAYLOAD_INVALID', 'not JSON');
  }
  const model = MODELS.get(row.tx_name);
  if (!model || !payload.record) return { ...payload };
  const plain = Object.keys(payload.record).length ? new Study(store).decrypted(row.tx_name as TxName, payload.record) : {};
  return { record: toJs(model, plain), history: payload.history ?? null };
}

/** This machine's IPv4 addresses, LAN first, loopback last. */
export function localAddresses(): string[] {
  const out: string[] = [];
  for (const list of Object.values(os.networkInterfaces())) {
    for (const a of list ?? []) if (a.family === 'IPv4') out.push(a.address);
  }
  return [...new Set(out)].sort((a, b) => Number(a.startsWith('127.')) - Number(b.startsWith('127.')));
}
