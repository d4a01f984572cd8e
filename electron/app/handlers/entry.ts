/** Data entry on a field laptop: subjects, consent, visits, CRFs and specimen requisitions, all through the write path. */
import { EdcError } from '../../../shared/errors.ts';
import { MODELS, toJs } from '../../core/domain/registry.ts';
import type { Study } from '../../core/domain/study.ts';
import type { RawRow } from '../../core/envelope.ts';
import { consent, medicalHistory, specimenRequisition, subject, visit, vitalSigns } from '../../core/db/schema.ts';
import { rowsOf, shaped } from '../../core/db/typed.ts';
import { countRow, idRow } from '../../core/row-shapes.ts';
import type { Store } from '../../core/store.ts';
import type { Actor } from '../../core/write-path.ts';
import type { ModelInput } from '../../../shared/domain.ts';
import { correctDrawTime, drawCorrections } from '../../core/requisitions.ts';
import { subjectIndex } from '../../core/subject-index.ts';
import { correctRecord, deletedSubjects, deleteRecord, subjectHistory } from '../../core/corrections.ts';
import type { AreaHandlers, HandlerContext } from '../context.ts';

export function entryHandlers(ctx: HandlerContext): AreaHandlers<'subjects.search' | 'subjects.register' | 'subjects.get' | 'consent.save' | 'visits.add' | 'crf.vitalSigns.save' | 'crf.medicalHistory.save' | 'requisitions.create' | 'requisitions.correctDrawTime' | 'records.correct' | 'records.delete' | 'records.history' | 'subjects.deleted'> {
  const rowOf = (txName: string, row: RawRow): Record<string, unknown> => toJs(MODELS.get(txName)!, row);
  const subjectSummary = (row: RawRow) => {
    const s = rowOf('edc.subject', ctx.study().decrypted('edc.subject', row));
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
      drawCorrections: Number(r.revision) > 1 ? drawCorrections(ctx.need(), String(r.id)) : [],
    };
  };
  return {
    'subjects.search': async ({ query, page, pageSize }) => {
      const s = ctx.need();
      if (query === '') {
        const total = shaped(s.sql, countRow, 'SELECT count(*) AS n FROM subject').get()!.n;
        const rows = rowsOf(s.sql, subject, 'SELECT * FROM subject ORDER BY created DESC, id DESC LIMIT ? OFFSET ?').all(pageSize, page * pageSize);
        return { rows: rows.map(subjectSummary), total };
      }
      // Decrypted names and numbers are searched in memory only (core/subject-index.ts); the page is read by id.
      const ids = subjectIndex(s).search(query);
      const one = rowsOf(s.sql, subject, 'SELECT * FROM subject WHERE id = ?');
      const rows = ids.slice(page * pageSize, (page + 1) * pageSize).map((id) => one.get(id)).filter((r) => r !== undefined);
      return { rows: rows.map(subjectSummary), total: ids.length };
    },

    'subjects.register': async (input, who) => subjectSummary(ctx.study().registerSubject({ ...input, registrationDatetime: new Date().toISOString() }, ctx.actor(who))),

    'subjects.get': async ({ id }) => {
      const s = ctx.need();
      const row = rowsOf(s.sql, subject, 'SELECT * FROM subject WHERE id = ?').get(id);
      if (!row) throw new EdcError('RECORD_NOT_FOUND', `subject ${id}`);
      const visits = rowsOf(s.sql, visit, 'SELECT * FROM visit WHERE subject_id = ? ORDER BY visit_datetime, visit_code, visit_code_sequence').all(id);
      const vitals = rowsOf(s.sql, vitalSigns, 'SELECT * FROM vital_signs WHERE visit_id = ?');
      const history = rowsOf(s.sql, medicalHistory, 'SELECT * FROM medical_history WHERE visit_id = ?');
      const tubes = rowsOf(s.sql, specimenRequisition, 'SELECT * FROM specimen_requisition WHERE visit_id = ? ORDER BY requisition_identifier');
      const consents = rowsOf(s.sql, consent, 'SELECT * FROM consent WHERE subject_id = ? ORDER BY consent_datetime').all(id).map((c) => {
        const js = rowOf('edc.consent', c);
        return { id: String(js.id), version: String(js.version), consentDatetime: String(js.consentDatetime), isLiterate: Boolean(js.isLiterate), language: String(js.language) };
      });
      const plain = rowOf('edc.subject', ctx.study().decrypted('edc.subject', row));
      return {
        subject: { ...subjectSummary(row), identityNumber: String(plain.identityNumber), phone: plain.phone === null ? null : String(plain.phone) },
        consents,
        visits: visits.map((v) => {
          const vis = rowOf('edc.visit', v);
          const vs = vitals.get(v.id);
          const mh = history.get(v.id);
          const pick = <T extends string>(txName: string, r: RawRow | undefined, keys: readonly T[]) => {
            if (!r) return null;
            const js = rowOf(txName, r);
            return Object.fromEntries(['id', ...keys].map((k) => [k, js[k] ?? null]));
          };
          return {
            id: String(vis.id), visitCode: String(vis.visitCode), visitCodeSequence: Number(vis.visitCodeSequence),
            visitDatetime: String(vis.visitDatetime), reason: String(vis.reason),
            vitalSigns: pick('edc.vital_signs', vs, ['weightKg', 'heightCm', 'systolic', 'diastolic', 'temperatureC', 'oxygenSaturation'] as const) as never,
            medicalHistory: pick('edc.medical_history', mh, ['hypertension', 'diabetes', 'hivStatus', 'currentMedications'] as const) as never,
            requisitions: tubes.all(v.id).map(requisitionOf),
          };
        }),
      };
    },

    'consent.save': async (input, who) => ({ id: String(ctx.study().write.insert('edc.consent', input, ctx.actor(who)).id) }),

    'visits.add': async (input, who) => ({ id: String(ctx.study().write.insert('edc.visit', input, ctx.actor(who)).id) }),

    'crf.vitalSigns.save': async (input, who) => ({ id: String(upsertByVisit(ctx.need(), ctx.study(), 'edc.vital_signs', input, ctx.actor(who)).id) }),

    'crf.medicalHistory.save': async (input, who) => ({ id: String(upsertByVisit(ctx.need(), ctx.study(), 'edc.medical_history', input, ctx.actor(who)).id) }),

    'requisitions.create': async ({ visitId, drawnDatetime, specimens }, who) => {
      const st = ctx.study();
      if (!ctx.need().sql.prepare('SELECT 1 FROM visit WHERE id = ?').get(visitId)) throw new EdcError('RECORD_NOT_FOUND', `visit ${visitId}`);
      const rows = st.write.batch(() => specimens.map((sp) => st.requisition({ visitId, drawnDatetime, ...sp }, ctx.actor(who))));
      return rows.map(requisitionOf);
    },

    'requisitions.correctDrawTime': async ({ id, drawnDatetime, reason }, who) => requisitionOf(correctDrawTime(ctx.need(), ctx.study(), id, drawnDatetime, reason, ctx.actor(who))),

    'records.correct': async (input, who) => {
      const row = correctRecord(ctx.need(), ctx.study(), input, ctx.actor(who));
      return { id: String(row.id), revision: Number(row.revision) };
    },

    'records.delete': async ({ kind, id, reason }, who) => ({ deleted: deleteRecord(ctx.need(), ctx.study(), kind, id, reason, ctx.actor(who)) }),

    'records.history': async ({ subjectId }) => ({ entries: subjectHistory(ctx.need(), subjectId) }),

    'subjects.deleted': async ({ page, pageSize }) => deletedSubjects(ctx.need(), page, pageSize),
  };
}

/** Insert the CRF of a visit, or update it when the visit already has one (one per visit: the natural key). */
function upsertByVisit<K extends 'edc.vital_signs' | 'edc.medical_history'>(store: Store, study: Study, txName: K, input: ModelInput<K>, actor: Actor): RawRow {
  const table = MODELS.get(txName)!.tableName;
  const row = shaped(store.sql, idRow, `SELECT id FROM "${table}" WHERE visit_id = ?`).get(input.visitId);
  if (!row) return study.write.insert(txName, input, actor);
  const { visitId: _visitId, ...patch } = input;
  return study.write.update(txName, row.id, patch as Partial<ModelInput<K>>, actor);
}
