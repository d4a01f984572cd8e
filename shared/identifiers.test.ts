import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { checkCharacter, hasValidCheck, requisitionIdentifier, subjectIdentifier } from './identifiers.ts';

describe('identifiers', () => {
  it('embed the device so two devices never collide', () => {
    const a = new Set(Array.from({ length: 500 }, (_, i) => requisitionIdentifier('ra-01', i + 1)));
    const b = new Set(Array.from({ length: 500 }, (_, i) => requisitionIdentifier('ra-02', i + 1)));
    assert.equal(a.size, 500);
    for (const x of b) assert.ok(!a.has(x));
    assert.equal(subjectIdentifier('S01', 'ra-07', 42).slice(0, 15), 'S01-RA07-00042-');
  });

  it('a check character catches a single changed or swapped character', () => {
    const id = requisitionIdentifier('ra-01', 1234);
    assert.ok(hasValidCheck(id));
    assert.ok(hasValidCheck(subjectIdentifier('S01', 'ra-01', 7)));
    const body = id.slice(0, -1);
    for (let i = 0; i < body.length; i++) {
      const changed = body.slice(0, i) + (body[i] === '7' ? '8' : '7') + body.slice(i + 1);
      if (changed !== body) assert.notEqual(checkCharacter(changed), checkCharacter(body), `position ${i}`);
    }
    const swapped = body.slice(0, -3) + body[body.length - 2] + body[body.length - 3] + body[body.length - 1];
    if (swapped !== body) assert.notEqual(checkCharacter(swapped), checkCharacter(body));
  });
});
