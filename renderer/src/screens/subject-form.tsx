/**
 * A participant's fields as typed, for registering and for correcting: the same checks (date of birth as on the
 * identity card, the same sentences as shared/messages.ts) before anything is sent, and a backend mistake shown at
 * its field.
 */
import { Select, SimpleGrid, TextInput } from '@mantine/core';
import { Controller, type UseFormReturn } from 'react-hook-form';
import { z } from 'zod';
import { parseDob, type DobRefusal } from '../../../shared/dates.ts';
import { useFormat, useT, type MessageKey, type TFunction } from '../i18n.tsx';

const DOB_REASON: Record<DobRefusal, MessageKey> = {
  empty: 'entry.dobUnreadable', unreadable: 'entry.dobUnreadable', 'short-year': 'entry.dobShortYear',
  'no-such-date': 'entry.dobNoSuchDate', future: 'entry.dobFuture', 'too-old': 'entry.dobTooOld',
};

/** The participant's fields as typed; the same sentences as the mapping (shared/messages.ts) for the same mistakes. */
export function subjectFormSchema(t: TFunction) {
  return z.object({
    firstName: z.string().trim().min(1, t('entry.needFirstName')).max(80, t('entry.needFirstName')),
    lastName: z.string().trim().min(1, t('entry.needLastName')).max(80, t('entry.needLastName')),
    dob: z.string().transform((text, ctx) => {
      const r = parseDob(text);
      if (r.ok) return r.iso;
      ctx.addIssue({ code: 'custom', message: t(DOB_REASON[r.reason]) });
      return z.NEVER;
    }),
    identityNumber: z.string().trim().min(4, t('entry.needIdentity')).max(40, t('entry.needIdentity')),
    phone: z.string().trim().regex(/^(\+?[0-9 ]{6,20})?$/, t('entry.phoneInvalid')).transform((v) => (v === '' ? null : v)),
    gender: z.enum(['M', 'F'], { message: t('entry.needGender') }),
  });
}
export type SubjectFormIn = z.input<ReturnType<typeof subjectFormSchema>>;
export type SubjectFormOut = z.output<ReturnType<typeof subjectFormSchema>>;
export const SUBJECT_FIELDS = ['firstName', 'lastName', 'dob', 'identityNumber', 'phone', 'gender'] as const;

/** The participant's fields; a mistake the backend finds is shown at its field, like the form's own checks. */
export function SubjectFields({ form, serverField, serverError }: { form: UseFormReturn<SubjectFormIn, unknown, SubjectFormOut>; serverField: string | null; serverError: string | null }) {
  const t = useT();
  const f = useFormat();
  const e = form.formState.errors;
  const at = (k: (typeof SUBJECT_FIELDS)[number]) => e[k]?.message ?? (serverField === k ? serverError ?? undefined : undefined);
  const dobText = form.watch('dob');
  const dob = dobText ? parseDob(dobText) : null;
  return (
    <SimpleGrid cols={{ base: 1, md: 3 }}>
      <TextInput label={t('entry.firstName')} autoFocus {...form.register('firstName')} error={at('firstName')} />
      <TextInput label={t('entry.lastName')} {...form.register('lastName')} error={at('lastName')} />
      <TextInput label={t('entry.dob')} description={dob?.ok ? t('entry.dobReads', { date: f.dob(dob.iso) }) : t('entry.dobHint')} {...form.register('dob')} error={at('dob')} data-testid="dob" />
      <TextInput label={t('entry.identityNumber')} {...form.register('identityNumber')} error={at('identityNumber')} />
      <TextInput label={t('entry.phone')} {...form.register('phone')} error={at('phone')} />
      <Controller control={form.control} name="gender" render={({ field }) => (
        <Select label={t('entry.gender')} data={[{ value: 'F', label: t('entry.female') }, { value: 'M', label: t('entry.male') }]} value={field.value} onChange={(v) => field.onChange(v ?? 'F')} allowDeselect={false} error={at('gender')} />
      )} />
    </SimpleGrid>
  );
}

export const isFormField = (field: string | null): boolean => field !== null && (SUBJECT_FIELDS as readonly string[]).includes(field);


/** A stored date of birth (ISO) as a person types it: day/month/year, as on the identity card. */
export const dobAsTyped = (iso: string): string => {
  const [y, m, d] = iso.split('-');
  return y && m && d ? `${d}/${m}/${y}` : iso;
};
