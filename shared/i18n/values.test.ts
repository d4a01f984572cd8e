/**
 * Every coded answer a model input in shared/domain.ts allows has words in both catalogues (values.<field>.<code>),
 * so "Changes waiting to be sent", the inspector and Conflicts never show "F", "night_sweats" or true to a person;
 * and value() gives those words, Yes / No for a boolean, in the screen's language; so do the tests and specimens a
 * tube can be drawn for (PANELS: values.panel.*, values.specimenType.*).
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { z } from 'zod';
import { modelInputs, PANELS } from '../domain.ts';
import { en } from './en.ts';
import { tn } from './tn.ts';
import { formatters } from './format.ts';
import { BOOLEAN_FIELDS, CODES_AS_WORDS, ENUM_FIELDS } from './values.ts';

type Tree = { readonly [k: string]: string | Tree };
const at = (c: Tree, key: string): unknown => key.split('.').reduce<unknown>((x, k) => (x && typeof x === 'object' ? (x as Tree)[k] : undefined), c);
const words = (c: Tree) => (key: string) => { const v = at(c, key); return typeof v === 'string' ? v : undefined; };

describe('words for coded values', () => {
  // Read the schemas here on their own, not through values.ts, so a field values.ts misses is still counted.
  const options: string[] = [];
  for (const [txName, schema] of Object.entries(modelInputs)) {
    for (const [field, t] of Object.entries(schema.shape as Record<string, z.ZodType>)) {
      let inner: z.ZodType = t;
      while (inner instanceof z.ZodNullable || inner instanceof z.ZodOptional) inner = inner.unwrap() as z.ZodType;
      if (inner instanceof z.ZodEnum) for (const o of inner.options) options.push(`${txName} ${field} ${String(o)}`);
    }
  }

  it('the schemas have coded answers, and values.ts knows every one', () => {
    assert.ok(options.includes('edc.follow_up tbSymptoms night_sweats'));
    assert.ok(options.includes('edc.subject gender F'));
    for (const o of options) {
      const [, field, code] = o.split(' ');
      assert.ok(ENUM_FIELDS.get(field!)?.has(code!), o);
    }
    assert.deepEqual([...BOOLEAN_FIELDS].sort(), ['diabetes', 'hypertension', 'isLiterate']);
  });

  for (const [name, catalogue] of [['English', en], ['Setswana', tn]] as const) {
    it(`every enum option of every model input has words in ${name}, not its code`, () => {
      const missing = options.filter((o) => {
        const [, field, code] = o.split(' ');
        if (CODES_AS_WORDS.has(field!)) return false;
        const v = at(catalogue as unknown as Tree, `values.${field!}.${code!}`);
        return typeof v !== 'string' || v.trim() === '' || v === code;
      });
      assert.deepEqual(missing, []);
    });
  }

  it('every test and specimen the app offers (PANELS) has words in both catalogues, and value() shows them', () => {
    const codes = [...Object.keys(PANELS).map((p) => `panel ${p}`), ...[...new Set(Object.values(PANELS).flat())].map((s) => `specimenType ${s}`)];
    assert.equal(codes.length, 8);
    for (const c of codes) {
      const [field, ...rest] = c.split(' ');
      assert.ok(ENUM_FIELDS.get(field!)?.has(rest.join(' ')), `values.ts knows ${c}`);
    }
    for (const catalogue of [en, tn]) {
      const missing = codes.filter((c) => {
        const [field, ...rest] = c.split(' ');
        const v = at(catalogue as unknown as Tree, `values.${field!}.${rest.join(' ')}`);
        return typeof v !== 'string' || v.trim() === '';
      });
      assert.deepEqual(missing, []);
    }
    // English says the stored code (specs and people read "Viral load"); Setswana its own words.
    const e = formatters('en', ['en-GB'], undefined, words(en as unknown as Tree));
    const s = formatters('tn', ['en-GB'], undefined, words(tn as unknown as Tree));
    for (const p of Object.keys(PANELS)) assert.equal(e.value('panel', p), p);
    assert.equal(s.value('panel', 'Viral load'), tn.values.panel['Viral load']);
    assert.notEqual(s.value('panel', 'Viral load'), 'Viral load');
    assert.equal(s.value('specimen_type', 'whole blood'), tn.values.specimenType['whole blood'], 'by its column name too');
    assert.notEqual(s.value('specimenType', 'whole blood'), 'whole blood');
    assert.equal(s.value('panel', 'Malaria smear'), 'Malaria smear', 'a test the app does not offer: as stored');
  });

  it('value() gives the words in the screen’s language, Yes / No for booleans, other values as they are', () => {
    const e = formatters('en', ['en-GB'], undefined, words(en as unknown as Tree));
    const s = formatters('tn', ['en-GB'], undefined, words(tn as unknown as Tree));
    assert.equal(e.value('gender', 'F'), 'Female');
    assert.equal(s.value('gender', 'F'), 'Mosadi');
    assert.equal(e.value('tbSymptoms', 'night_sweats'), 'Night sweats');
    assert.equal(e.value('reason', 'scheduled'), 'Scheduled');
    assert.equal(e.value('hypertension', true), 'Yes');
    assert.equal(s.value('diabetes', false), 'Nnyaa');
    assert.equal(e.value('isLiterate', 1), 'Yes', 'a boolean stored as 1');
    assert.equal(e.value('reason', 'drawn at the household'), 'drawn at the household', 'free text in a field of the same name');
    assert.equal(e.value('visitCode', '1000'), '1000');
    assert.equal(e.value('firstName', 'F'), 'F', 'a code only in its own field');
    assert.equal(formatters('en', ['en-GB']).value('gender', 'F'), 'F', 'without a catalogue, as stored');
  });
});
