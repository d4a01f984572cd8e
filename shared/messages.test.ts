import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { IntlMessageFormat } from 'intl-messageformat';
import { CALL_NAMES } from './channels.ts';
import { ERROR_CODES, type ErrorCode } from './errors.ts';
import { en } from './i18n/en.ts';
import { tn } from './i18n/tn.ts';
import { CODE_MESSAGES, FIELD_MESSAGES, fieldMessage, plainMessage, type Problem } from './messages.ts';

type Tree = { [k: string]: string | Tree };
function leaves(t: Tree, prefix = ''): Map<string, string> {
  const out = new Map<string, string>();
  for (const [k, v] of Object.entries(t)) {
    if (typeof v === 'string') out.set(prefix + k, v);
    else for (const [kk, vv] of leaves(v, `${prefix}${k}.`)) out.set(kk, vv);
  }
  return out;
}
const EN = leaves(en as unknown as Tree);
const TN = leaves(tn as unknown as Tree);

function render(key: string, params: Record<string, string | number> = {}, catalogue = EN, locale = 'en'): string {
  const text = catalogue.get(key);
  assert.ok(text !== undefined, `no catalogue entry ${key}`);
  return String(new IntlMessageFormat(text, locale).format(params));
}

/** Names of the ICU arguments a message uses. */
function argumentsOf(text: string): string[] {
  const names = new Set<string>();
  const walk = (els: unknown[]) => {
    for (const el of els as { type: number; value?: string; options?: Record<string, { value: unknown[] }> }[]) {
      if (el.value && el.type !== 0 && el.type !== 7) names.add(el.value);
      for (const o of Object.values(el.options ?? {})) walk(o.value);
    }
  };
  walk(new IntlMessageFormat(text, 'en').getAst());
  return [...names].sort();
}

/** What a person must never read: codes, the sender's machine words, URLs, model names. */
const MACHINE = [/\b[A-Z]{2,}_[A-Z_]+\b/, /ECONN/, /https?:\/\/(?!10\.0\.0\.5|192\.168\.1\.20)/, /\bedc\./, /Too small|expected string|Invalid URL|>=\d/, /\bsubject_id\b/];

const problem = (code: ErrorCode, message: string, field?: string): Problem => ({ code, message, field });

describe('the catalogue', () => {
  it('Setswana has every English key, each a valid ICU message using the same values', () => {
    assert.deepEqual([...TN.keys()].sort(), [...EN.keys()].sort());
    for (const [k, v] of EN) assert.deepEqual(argumentsOf(TN.get(k)!), argumentsOf(v), k);
  });
  it('every error code has a sentence, and none of them shows a code or machine words', () => {
    for (const code of Object.keys(ERROR_CODES) as ErrorCode[]) {
      const s = render(`errors.${code}`);
      for (const m of MACHINE) assert.doesNotMatch(s, m, `errors.${code}: ${s}`);
    }
  });
  it('plurals read right in English', () => {
    assert.equal(render('status.syncKept', { n: 5553 }), 'Nothing was lost: 5,553 changes are kept safely on this laptop and go with the next sync.');
    assert.equal(render('status.syncKept', { n: 1 }), 'Nothing was lost: 1 change is kept safely on this laptop and goes with the next sync.');
    assert.equal(render('entry.count', { n: 0 }), 'No participants');
  });
});

describe('plainMessage: one sentence per call and code, the code only in the details', () => {
  it('consent pressed twice names the version, not the table and its columns', () => {
    const p = plainMessage('consent.save', problem('NATURAL_KEY_TAKEN', 'edc.consent (subject_id, version). Another record already has this identifier.'), { subjectId: 'x', version: '1.0', isLiterate: true });
    assert.equal(p.key, 'entry.consentAlready');
    assert.equal(render(p.key, p.params), 'Consent version 1.0 is already recorded for this participant.');
    assert.match(p.details, /^NATURAL_KEY_TAKEN · edc\.consent/);
  });
  it('an empty first name says what to do, not what zod expected', () => {
    const p = plainMessage('subjects.register', problem('INPUT_INVALID', 'firstName: Too small: expected string to have >=1 characters. The input is not valid.', 'firstName'));
    assert.equal(render(p.key, p.params), 'Enter the first name.');
    assert.equal(p.field, 'firstName');
  });
  it('the driver\'s pull: an unreachable laptop and a wrong share code are the laptop\'s, not the server\'s', () => {
    assert.equal(render(plainMessage('pull.run', problem('SERVER_UNREACHABLE', 'connect ECONNREFUSED 192.168.1.20:41234 (http://192.168.1.20:41234/share/v1/session)')).key),
      'The laptop cannot be reached: are both on the same Wi-Fi? Check the address on the laptop’s screen.');
    const wrong = render(plainMessage('pull.run', problem('PAIRING_CODE_INVALID', 'The pairing code is wrong, expired or already used. Ask for a new code on the server.')).key);
    assert.match(wrong, /laptop’s screen/);
    assert.doesNotMatch(wrong, /server/);
  });
  it('a bad server address on pairing names the field by its label, with an example', () => {
    const p = plainMessage('device.setup', problem('INPUT_INVALID', 'server.url: Invalid URL. The input is not valid.', 'server.url'));
    assert.equal(p.key, 'device.urlInvalid');
    assert.doesNotMatch(render(p.key), /Invalid URL|server\.url/);
  });
  it('a sync that cannot reach the server does not tell the RA to press Sync "again" on another screen, and keeps the URL out', () => {
    const s = render(plainMessage('sync.run', problem('SERVER_UNREACHABLE', 'connect ECONNREFUSED 10.0.0.5:8080 http://10.0.0.5:8080')).key);
    assert.doesNotMatch(s, /ECONN|http|press Sync again/);
    assert.match(s, /Nothing is lost/);
  });
  it('codes without a special sentence fall back to errors.<CODE>; unknown fields to the generic one', () => {
    assert.equal(plainMessage('sync.run', problem('DISK_FULL', 'x')).key, 'errors.DISK_FULL');
    assert.equal(plainMessage('subjects.register', problem('INPUT_INVALID', 'nonsense: bad', 'nonsense')).key, 'errors.INPUT_INVALID');
    assert.equal(plainMessage(null, problem('INTERNAL', 'TypeError: x is undefined')).key, 'errors.INTERNAL');
  });
  it('every mapped sentence exists in the catalogue, names calls that exist, and reads without machine words', () => {
    for (const [call, map] of [...Object.entries(FIELD_MESSAGES), ...Object.entries(CODE_MESSAGES)]) {
      assert.ok((CALL_NAMES as readonly string[]).includes(call), call);
      for (const key of Object.values(map as Record<string, string>)) {
        const s = render(key, { version: '1.0', key: 'remotePort', label: 'Weight (kg)', text: 'x', example: '4,2', n: 1 });
        for (const m of MACHINE) assert.doesNotMatch(s, m, `${call} → ${key}: ${s}`);
      }
    }
  });
  it('a nested field falls back to its first segment', () => {
    assert.equal(fieldMessage('requisitions.create', 'specimens.0.panel'), 'entry.tubesNone');
    assert.equal(fieldMessage('status.get', 'x'), null);
  });
});
