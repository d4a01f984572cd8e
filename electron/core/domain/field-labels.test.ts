/**
 * Every field of every synced model has a name in the users' words in both locales, where the screens look for it
 * (renderer fieldLabel: inspector.field.<name>, then entry.<name>): the inspector, Conflicts, Corrections and
 * "Changes waiting to be sent" never fall back to the name in the code. The columns every record carries (shown as
 * "changed by … on …") and the lookup hashes (never decrypted for a screen) are left out.
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { en } from '../../../shared/i18n/en.ts';
import { tn } from '../../../shared/i18n/tn.ts';
import { MODELS } from './registry.ts';

const BOOKKEEPING = new Set(['id', 'created', 'modified', 'userCreated', 'userModified', 'hostnameCreated', 'hostnameModified', 'deviceId', 'revision']);

type Tree = { readonly [k: string]: string | Tree };
const at = (c: Tree, key: string): unknown => key.split('.').reduce<unknown>((x, k) => (x && typeof x === 'object' ? (x as Tree)[k] : undefined), c);
const label = (c: Tree, field: string): unknown => at(c, `inspector.field.${field}`) ?? at(c, `entry.${field}`);

describe('field labels', () => {
  const fields = [...MODELS.values()].flatMap((m) => {
    const hashes = new Set(m.pii.map((p) => `${p.js}Hash`));
    return m.columns.map((c) => c.js).filter((js) => !BOOKKEEPING.has(js) && !hashes.has(js)).map((js) => `${m.txName}.${js}`);
  });

  it('covers every model', () => {
    assert.equal(new Set(fields.map((f) => f.slice(0, f.lastIndexOf('.')))).size, MODELS.size);
    assert.ok(fields.includes('edc.specimen_requisition.drawnDatetime'));
  });

  for (const [name, catalogue] of [['English', en], ['Setswana', tn]] as const) {
    it(`every field has a label in ${name}, not its code name`, () => {
      const missing = fields.filter((f) => {
        const js = f.slice(f.lastIndexOf('.') + 1);
        const v = label(catalogue as unknown as Tree, js);
        return typeof v !== 'string' || v.trim() === '' || v === js;
      });
      assert.deepEqual(missing, []);
    });
  }

  it('every model has a name in both locales', () => {
    for (const txName of MODELS.keys()) {
      assert.equal(typeof (en.models as Record<string, string | undefined>)[txName], 'string', txName);
      assert.equal(typeof (tn.models as Record<string, string | undefined>)[txName], 'string', txName);
    }
  });
});
