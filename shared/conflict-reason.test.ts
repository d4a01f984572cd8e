import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { en } from './i18n/en.ts';
import { readConflictReason } from './conflict-reason.ts';

const id = '5c1d6f8e-2b7a-4c1e-9f3a-0d2b8e7c6a51';

describe('readConflictReason: the stored reason of a conflict, for a sentence in the users’ words', () => {
  it('reads each reason the consumer writes (ids whole, or shortened as the grouped reasons show them)', () => {
    for (const pk of [id, '…']) {
      assert.deepEqual(readConflictReason(`edc.subject ${pk}: the update was made from revision 1 but this copy is at revision 3`), { txName: 'edc.subject', kind: 'update-changed', base: 1, here: 3 });
      assert.deepEqual(readConflictReason(`edc.visit ${pk}: deleted from revision 2 but this copy is at revision 4`), { txName: 'edc.visit', kind: 'delete-changed', base: 2, here: 4 });
      assert.deepEqual(readConflictReason(`edc.specimen_requisition ${pk} was deleted here; the update was not applied`), { txName: 'edc.specimen_requisition', kind: 'update-deleted', base: null, here: null });
      assert.deepEqual(readConflictReason(`edc.consent ${pk} already exists here at revision 2`), { txName: 'edc.consent', kind: 'exists', base: null, here: 2 });
      assert.deepEqual(readConflictReason(`edc.visit natural key (subject_id, visit_code, visit_code_sequence) is already used by record ${pk}`), { txName: 'edc.visit', kind: 'natural-key', base: null, here: null });
    }
  });
  it('anything else is not a conflict it knows (the screen says the general sentence)', () => {
    for (const r of [null, '', 'KEY_UNKNOWN: key k-2 is not in this key set', 'subject 1 was deleted here']) assert.equal(readConflictReason(r), null, String(r));
  });
  it('the sentences name the record by a catalogue word, never by its model', () => {
    for (const k of ['conflictUpdateChanged', 'conflictUpdateDeleted', 'conflictDeleteChanged', 'conflictExists', 'conflictNaturalKey'] as const) {
      assert.match(en.batches[k], /\{model\}/);
      assert.doesNotMatch(en.batches[k], /edc\.|revision \d/);
    }
    for (const txName of ['edc.subject', 'edc.consent', 'edc.visit', 'edc.vital_signs', 'edc.medical_history', 'edc.specimen_requisition'] as const) {
      assert.doesNotMatch(en.models[txName], /edc|_/, txName);
    }
  });
});
