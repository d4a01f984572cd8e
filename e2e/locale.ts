/**
 * The second locale's check, one copy for every spec: which English words of the catalogue (shared/i18n/en.ts) are
 * still on the page once Setswana (tn.ts) is chosen. Only words the Setswana catalogue says differently count, so a
 * number, a name or "EDC Sync" never does; details lines (`data-details`: the sender's own text, for support) are
 * left out.
 */
import type { Page } from '@playwright/test';
import { en } from '../shared/i18n/en.ts';
import { tn } from '../shared/i18n/tn.ts';

type Tree = { [k: string]: string | Tree };

/** Entries written the same in both catalogues, longest first (the app's name, test names such as CD4). */
const SAME_IN_BOTH: readonly string[] = (() => {
  const out = new Set<string>();
  const walk = (e: string | Tree | undefined, s: string | Tree | undefined) => {
    if (typeof e === 'string') {
      if (e === s && /[A-Za-z]{2}/.test(e) && !/[{}]/.test(e)) out.add(e);
    } else if (e && typeof e === 'object') for (const k of Object.keys(e)) walk(e[k], s && typeof s === 'object' ? s[k] : undefined);
  };
  walk(en as unknown as Tree, tn as unknown as Tree);
  return [...out].sort((a, b) => b.length - a.length);
})();

/** Every section of the catalogue (common, nav, entry, values, …). */
export const ALL_SECTIONS: readonly string[] = Object.keys(en);

/**
 * The English words of catalogue sections that Setswana says differently: each entry's text between its ICU
 * placeholders, at least 4 letters long, and not also in the Setswana entry (a number, a name or "EDC Sync" stay).
 */
export function englishOf(sections: readonly string[]): string[] {
  const out = new Set<string>();
  const walk = (e: string | Tree | undefined, s: string | Tree | undefined) => {
    if (typeof e === 'string') {
      if (typeof s !== 'string' || s === e) return;
      // Innermost first: an argument ({n}, {at, date}) is a gap; a plural or select branch's text ({# change},
      // one {yesterday}) is words of its own; '#' is the number.
      const texts: string[] = [];
      let flat = e;
      for (let prev = ''; prev !== flat;) {
        prev = flat;
        flat = flat.replace(/(=\d+|\b(?:zero|one|two|few|many|other)|)\s*\{([^{}]*)\}/g, (_m, key: string, c: string) => {
          if (key || !/^\s*\w+\s*(,\s*\w+\s*(,[^{}]*)?)?$/.test(c)) texts.push(c);
          return '\u0000';
        });
      }
      texts.push(flat);
      const pieces = texts.flatMap((x) => x.replaceAll('#', '\u0000').split('\u0000'));
      for (const piece of pieces.map((x) => x.trim().replace(/^[,.;:()–—·\s]+|[,.;:()–—·\s]+$/g, ''))) {
        if (/[A-Za-z]{2}/.test(piece) && piece.length >= 4 && !s.includes(piece)) out.add(piece);
      }
      return;
    }
    if (e && typeof e === 'object') for (const k of Object.keys(e)) walk(e[k], s && typeof s === 'object' ? s[k] : undefined);
  };
  for (const section of sections) {
    const pick = (c: Tree) => section.split('.').reduce<string | Tree | undefined>((x, k) => (x && typeof x === 'object' ? x[k] : undefined), c);
    walk(pick(en as unknown as Tree), pick(tn as unknown as Tree));
  }
  return [...out];
}

/**
 * English words of `sections` (all of the catalogue unless told) on the page, outside the details lines: in its text
 * and in what shown elements say besides (placeholders, chosen options, accessible names, tooltips).
 */
export async function englishLeft(page: Page, sections: readonly string[] = ALL_SECTIONS): Promise<string[]> {
  return (await englishLines(page, sections)).map((x) => x.word);
}

/** Each English word left (as englishLeft), with the line of the page it is on: what a failing check says. */
export async function englishLines(page: Page, sections: readonly string[] = ALL_SECTIONS): Promise<{ word: string; line: string }[]> {
  const shown = await page.locator('body').evaluate((b: HTMLElement) => {
    let all = b.innerText;
    b.querySelectorAll<HTMLElement>('[data-details]').forEach((d) => { all = all.split(d.innerText).join('\n'); });
    // What a person also reads or hears on shown elements: a box's hint, a chosen option (a select's box is
    // read-only), an accessible name, a tooltip.
    const said: string[] = [];
    for (const el of Array.from(b.querySelectorAll<HTMLElement>('[placeholder], input[readonly], [aria-label], [title]'))) {
      if (!el.checkVisibility() || el.closest('[data-details]')) continue;
      for (const a of ['placeholder', 'aria-label', 'title']) said.push(el.getAttribute(a) ?? '');
      if (el instanceof HTMLInputElement && el.readOnly) said.push(el.value);
    }
    return `${all}\n${said.join('\n')}`;
  });
  // Names the catalogue keeps in both languages ("EDC Sync", "CD4") are not English words of the screen.
  let text = shown;
  for (const same of SAME_IN_BOTH) text = text.split(same).join(' ');
  const lines = text.split('\n');
  const found = (word: string, re: RegExp) => {
    const line = lines.find((l) => re.test(l));
    return line === undefined ? [] : [{ word, line: line.trim() }];
  };
  // A month in a date ("04 Dec 2026") is three letters: looked for by itself, after the day's number.
  const enMonths = en.time.monthsShort.split(' ');
  const tnMonths = tn.time.monthsShort.split(' ');
  const months = sections.includes('time') ? enMonths.filter((m, i) => m !== tnMonths[i]).flatMap((m) => found(m, new RegExp(`\\b\\d{1,2} ${m}\\b`))) : [];
  return [...englishOf(sections).flatMap((w) => found(w, new RegExp(`(^|[^A-Za-z])${w.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}($|[^A-Za-z])`))), ...months];
}
