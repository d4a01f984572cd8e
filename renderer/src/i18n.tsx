/**
 * The message catalogue: every word a person reads on screen comes from shared/i18n/en.ts (English, complete) and
 * shared/i18n/tn.ts (Setswana, a draft for review by a native speaker), through i18next with ICU messages.
 *
 * How to add a string:
 *   1. Add it under your screen's section in shared/i18n/en.ts, e.g. `status: { …, lastSync: 'Last sync {when}' }`.
 *      ICU syntax: `{name}` for a value, `{count, plural, one {# change} other {# changes}}` for plurals.
 *   2. Add the same key to shared/i18n/tn.ts (typecheck fails until you do; a draft is fine, it is reviewed).
 *   3. In a component: `const t = useT();` then `t('status.lastSync', { when })`. Outside React: `t()` from here.
 * Numbers and dates are formatted with `useFormat()` (device locale, 24-hour clock, relative times).
 */
import i18next from 'i18next';
import ICU from 'i18next-icu';
import { useCallback, useMemo } from 'react';
import { initReactI18next, useTranslation } from 'react-i18next';
import { en, type MessageKey } from '../../shared/i18n/en.ts';
import { tn } from '../../shared/i18n/tn.ts';
import { formatters, type Formatters } from '../../shared/i18n/format.ts';

export type { MessageKey };
export type MessageParams = Record<string, string | number | Date>;

/** Each language by its own name; a draft one says so in the screen's language (common.draftMark). */
export const LANGUAGES = [
  { value: 'en', label: 'English', draft: false },
  { value: 'tn', label: 'Setswana', draft: true },
] as const;
export type Language = (typeof LANGUAGES)[number]['value'];
const STORAGE_KEY = 'edc.language';

function savedLanguage(): Language {
  try {
    const v = window.localStorage.getItem(STORAGE_KEY);
    return v === 'tn' ? 'tn' : 'en';
  } catch {
    return 'en';
  }
}

void i18next.use(ICU).use(initReactI18next).init({
  resources: { en: { translation: en }, tn: { translation: tn } },
  lng: savedLanguage(),
  fallbackLng: 'en',
  interpolation: { escapeValue: false },
  returnNull: false,
  initAsync: false,
});
document.documentElement.lang = i18next.language;

/** Switches the language of every screen at once and remembers it on this computer (this browser). */
export function setLanguage(lng: Language): void {
  try {
    window.localStorage.setItem(STORAGE_KEY, lng);
  } catch {
    // private mode: the choice lasts for this page only
  }
  document.documentElement.lang = lng;
  void i18next.changeLanguage(lng);
}

export type TFunction = (key: MessageKey, params?: MessageParams) => string;

/** Outside React (rarely needed): the same lookup in the current language. */
export const t: TFunction = (key, params) => i18next.t(key, params ?? {});

/** The catalogue in the current language; the component renders again when the language changes. */
export function useT(): TFunction {
  const { t: tr } = useTranslation();
  return useCallback<TFunction>((key, params) => tr(key, params ?? {}), [tr]);
}

export function useLanguage(): Language {
  const { i18n } = useTranslation();
  return i18n.language === 'tn' ? 'tn' : 'en';
}

/** Numbers, dates, relative times (the device's locale, 24-hour clock) and coded values (`values.*`) in the current language. */
export function useFormat(): Formatters {
  const lng = useLanguage();
  const tr = useT();
  return useMemo(() => formatters(lng, typeof navigator === 'undefined' ? [] : navigator.languages, (key, params) => tr(key, params),
    // A key built from a stored code (values.<field>.<code>): looked up only when the catalogue has it.
    (key) => (i18next.exists(key) ? tr(key as MessageKey) : undefined)), [lng, tr]);
}
