import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { adviceFor } from './advice.ts';
import { PROBLEM_KINDS, ROLE_PERMISSIONS, USER_ROLES } from './contract.ts';
import { ERROR_CODES, type ErrorCode } from './errors.ts';
import { en } from './i18n/en.ts';
import { tn } from './i18n/tn.ts';

const lookup = (cat: unknown, key: string): unknown => key.split('.').reduce<unknown>((o, k) => (o as Record<string, unknown> | undefined)?.[k], cat);

describe('who can act on a problem (Consumed batches)', () => {
  it('a missing key names the administrator to a lab assistant, and lets the administrator act', () => {
    const lab = ROLE_PERMISSIONS['lab-assistant'];
    assert.equal(adviceFor({ kind: 'error', code: 'KEY_UNKNOWN' }, lab), 'batches.adviceKeyAdmin');
    assert.match(en.batches.adviceKeyAdmin, /an administrator imports the newer key file .* on Device & settings/);
    assert.ok(lab.includes('retry'), 'the lab assistant presses Retry afterwards');
    assert.equal(adviceFor({ kind: 'error', code: 'KEY_UNKNOWN' }, ROLE_PERMISSIONS.admin), 'batches.adviceKeyYou');
    assert.doesNotMatch(en.batches.adviceKeyAdmin + en.batches.adviceKeyYou, /Device screen/);
  });

  it('conflicts are the data manager\'s; waiting ones need nobody; damaged copies come again by themselves', () => {
    assert.equal(adviceFor({ kind: 'conflict', code: null }, ROLE_PERMISSIONS['lab-assistant']), 'batches.adviceConflictManager');
    assert.equal(adviceFor({ kind: 'conflict', code: null }, ROLE_PERMISSIONS['data-manager']), 'batches.adviceConflictYou');
    assert.equal(adviceFor({ kind: 'blocked', code: 'KEY_UNKNOWN' }, []), 'batches.adviceBlocked');
    assert.equal(adviceFor({ kind: 'deferred', code: null }, []), 'batches.adviceDeferred');
    assert.equal(adviceFor({ kind: 'error', code: 'DECRYPT_FAILED' }, []), 'batches.adviceResend');
    assert.equal(adviceFor({ kind: 'error', code: null }, []), 'batches.adviceOther');
  });

  it('every kind, code and role gets a sentence in both catalogues', () => {
    for (const role of USER_ROLES) {
      for (const kind of PROBLEM_KINDS) {
        for (const code of [null, ...Object.keys(ERROR_CODES) as ErrorCode[]]) {
          const key = adviceFor({ kind, code }, ROLE_PERMISSIONS[role]);
          assert.equal(typeof lookup(en, key), 'string', key);
          assert.equal(typeof lookup(tn, key), 'string', key);
        }
      }
    }
  });
});
