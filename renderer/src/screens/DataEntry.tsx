import { Alert, Badge, Button, Card, Checkbox, Group, Select, SimpleGrid, Stack, Table, Tabs, Text, TextInput, Textarea, Title } from '@mantine/core';
import { zodResolver } from '@hookform/resolvers/zod';
import { useId, useMemo, useState } from 'react';
import { useForm, type FieldErrors, type Resolver } from 'react-hook-form';
import { z } from 'zod';
import type { CallOutput, SubjectSummary, Visit } from '../../../shared/contract.ts';
import { parseDecimal, type NumberRefusal } from '../../../shared/numbers.ts';
import { PANELS, VISIT_CODES, vitalSignsInput } from '../../../shared/domain.ts';
import { useAction, useCall } from '../hooks.ts';
import type { Formatters } from '../../../shared/i18n/format.ts';
import { useFormat, useT, type MessageKey, type TFunction } from '../i18n.tsx';
import { Pager, ProblemAlert, OK_COLOR } from '../ui.tsx';
import { RequisitionList } from './Requisitions.tsx';
import { ChangeDialog, CorrectConsent, CorrectSubject, CorrectVisit, DeletedSubjects, DeleteRecord, RecordActions, SubjectHistory } from './Corrections.tsx';
import { isFormField, SubjectFields, subjectFormSchema, type SubjectFormIn, type SubjectFormOut } from './subject-form.tsx';

export function DataEntryScreen() {
  const t = useT();
  const f = useFormat();
  const [query, setQuery] = useState('');
  const [submitted, setSubmitted] = useState('');
  const [selected, setSelected] = useState<string | null>(null);
  const [registering, setRegistering] = useState(false);
  const [page, setPage] = useState(0);
  const pageSize = 25;
  const results = useCall('subjects.search', { query: submitted, page, pageSize });
  const total = results.data?.total ?? 0;
  if (selected) return <SubjectScreen id={selected} onBack={() => { setSelected(null); void results.reload(); }} />;
  return (
    <Stack>
      <Title order={2}>{t('entry.title')}</Title>
      <Card withBorder>
        <form onSubmit={(e) => { e.preventDefault(); setSubmitted(query.trim()); setPage(0); }} role="search" aria-label={t('entry.findLabel')}>
          <Group align="end">
            <TextInput label={t('entry.findLabel')} description={t('entry.findHint')} value={query} onChange={(e) => setQuery(e.currentTarget.value)} w={380} autoFocus />
            <Button type="submit">{t('common.find')}</Button>
            <Button variant="light" onClick={() => setRegistering(true)} data-testid="register-open">{t('entry.register')}</Button>
          </Group>
        </form>
      </Card>
      {registering && <RegisterForm onDone={(s) => { setRegistering(false); if (s) setSelected(s.id); }} />}
      <ProblemAlert state={results} />
      {results.data && <Text fw={600} data-testid="subject-count">{submitted ? t('entry.countFor', { n: total, query: submitted }) : t('entry.count', { n: total })}</Text>}
      <Table striped highlightOnHover data-testid="subject-list">
        <Table.Thead><Table.Tr><Table.Th>{t('entry.colParticipant')}</Table.Th><Table.Th>{t('entry.colName')}</Table.Th><Table.Th>{t('entry.colBorn')}</Table.Th><Table.Th>{t('entry.colRegistered')}</Table.Th><Table.Th /></Table.Tr></Table.Thead>
        <Table.Tbody>
          {(results.data?.rows ?? []).map((s) => (
            <Table.Tr key={s.id} data-testid="subject-row">
              <Table.Td>{s.subjectIdentifier}</Table.Td><Table.Td>{s.firstName} {s.lastName}</Table.Td><Table.Td>{f.dob(s.dob)}</Table.Td>
              <Table.Td>{f.date(s.registrationDatetime)}</Table.Td>
              <Table.Td><Button size="xs" onClick={() => setSelected(s.id)}>{t('common.open')}</Button></Table.Td>
            </Table.Tr>
          ))}
          {results.data?.rows.length === 0 && <Table.Tr><Table.Td colSpan={5}><Text c="dimmed">{submitted ? t('entry.noneFound', { query: submitted }) : t('entry.noneYet')}</Text></Table.Td></Table.Tr>}
        </Table.Tbody>
      </Table>
      <Pager total={total} page={page} pageSize={pageSize} onChange={setPage} testId="subject-pager" />
      <DeletedSubjects />
    </Stack>
  );
}

function RegisterForm({ onDone }: { onDone: (s: SubjectSummary | null) => void }) {
  const t = useT();
  const register = useAction('subjects.register');
  const schema = useMemo(() => subjectFormSchema(t), [t]);
  const form = useForm<SubjectFormIn, unknown, SubjectFormOut>({ resolver: zodResolver(schema), defaultValues: { firstName: '', lastName: '', dob: '', identityNumber: '', phone: '', gender: 'F' } });
  const submit = form.handleSubmit(async (v) => {
    const s = await register.run(v);
    if (s) onDone(s);
  });
  return (
    <Card withBorder>
      <form onSubmit={(ev) => void submit(ev)} aria-label={t('entry.registerTitle')}>
        <Stack>
          <Title order={3}>{t('entry.registerTitle')}</Title>
          <SubjectFields form={form} serverField={register.field} serverError={register.error} />
          {!isFormField(register.field) && <ProblemAlert state={register} />}
          <Group><Button type="submit" loading={register.busy}>{t('entry.registerSubmit')}</Button><Button variant="subtle" onClick={() => onDone(null)}>{t('common.cancel')}</Button></Group>
        </Stack>
      </form>
    </Card>
  );
}

function SubjectScreen({ id, onBack }: { id: string; onBack: () => void }) {
  const t = useT();
  const f = useFormat();
  const detail = useCall('subjects.get', { id });
  const d = detail.data;
  // Bumped by every change on this screen: the history below is read again.
  const [version, setVersion] = useState(0);
  const changed = () => {
    setVersion((n) => n + 1);
    void detail.reload();
  };
  const [dialog, setDialog] = useState<'correct' | 'delete' | null>(null);
  return (
    <Stack>
      <Group><Button variant="subtle" onClick={onBack}>{t('entry.backToList')}</Button></Group>
      <ProblemAlert state={detail} />
      {d && (
        <>
          <Group justify="space-between" align="start">
            <Stack gap={4}>
              <Title order={2} data-testid="subject-title">{d.subject.subjectIdentifier} · {d.subject.firstName} {d.subject.lastName}</Title>
              <Text c="dimmed" data-testid="subject-born">{t('entry.born', { dob: f.dob(d.subject.dob) })} · {d.subject.gender === 'F' ? t('entry.genderF') : t('entry.genderM')}</Text>
            </Stack>
            <Group gap="xs">
              <Button variant="light" onClick={() => setDialog('correct')} data-testid="subject-correct">{t('corrections.correctSubject')}</Button>
              <Button variant="subtle" color="red" onClick={() => setDialog('delete')} data-testid="subject-delete">{t('corrections.deleteSubject')}</Button>
            </Group>
          </Group>
          <Text fw={600} data-testid="next-step">{t('entry.next', { step: nextStep(t, d) })}</Text>
          <Consents subjectId={id} registeredAt={d.subject.registrationDatetime} consents={d.consents} onDone={changed} />
          <AddVisit subjectId={id} nextSequence={d.visits.length} onDone={changed} />
          {d.visits.map((v) => (
            <VisitCard key={v.id} visit={v} subject={d.subject.subjectIdentifier} registeredAt={d.subject.registrationDatetime} onChange={changed} />
          ))}
          <SubjectHistory key={version} subjectId={id} />
          <ChangeDialog title={t('corrections.correctSubjectTitle', { subject: d.subject.subjectIdentifier })} opened={dialog === 'correct'} onClose={() => setDialog(null)}>
            <CorrectSubject subject={{ ...d.subject, id }} onDone={() => { setDialog(null); changed(); }} />
          </ChangeDialog>
          <ChangeDialog title={t('corrections.deleteSubjectTitle', { subject: d.subject.subjectIdentifier })} opened={dialog === 'delete'} onClose={() => setDialog(null)}>
            <DeleteRecord kind="subject" id={id} warning={t('corrections.deleteSubjectWarning', { consents: d.consents.length, visits: d.visits.length })} onDone={() => { setDialog(null); onBack(); }} />
          </ChangeDialog>
        </>
      )}
    </Stack>
  );
}

type Consent = CallOutput<'subjects.get'>['consents'][number];

/** "1,0" is written 1.0 (the version is a number to the person typing it). */
const normaliseVersion = (v: string) => v.trim().replace(',', '.');

function Consents({ subjectId, registeredAt, consents, onDone }: { subjectId: string; registeredAt: string; consents: Consent[]; onDone: () => void }) {
  const t = useT();
  const f = useFormat();
  const save = useAction('consent.save');
  const [version, setVersion] = useState('1.0');
  const [language, setLanguage] = useState('en');
  const [literate, setLiterate] = useState(true);
  const v = normaliseVersion(version);
  // Consent for a version is given once: the button says why it cannot be pressed again.
  const already = consents.some((c) => c.version === v);
  const [dialog, setDialog] = useState<{ c: Consent; what: 'correct' | 'delete' } | null>(null);
  const close = () => setDialog(null);
  const named = (c: Consent) => t('entry.consentVersionShort', { version: c.version });
  return (
    <Card withBorder>
      <Title order={3} mb="xs">{t('entry.consentTitle')}</Title>
      {consents.length === 0 ? <Text c="dimmed" mb="sm">{t('entry.noConsent')}</Text> : (
        <Table mb="sm" data-testid="consents">
          <Table.Tbody>{consents.map((c) => (
            <Table.Tr key={c.id}><Table.Td>{named(c)}</Table.Td><Table.Td>{f.dateTime(c.consentDatetime)}</Table.Td><Table.Td>{c.language}</Table.Td><Table.Td>{c.isLiterate ? t('entry.literate') : t('entry.witnessed')}</Table.Td>
              <Table.Td><RecordActions what={t('corrections.consentWhat', { version: c.version })} onCorrect={() => setDialog({ c, what: 'correct' })} onDelete={() => setDialog({ c, what: 'delete' })} /></Table.Td></Table.Tr>
          ))}</Table.Tbody>
        </Table>
      )}
      <Group align="end">
        <TextInput label={t('entry.consentVersion')} value={version} onChange={(e) => setVersion(e.currentTarget.value)} w={140} error={save.field === 'version' ? save.error : undefined} />
        <TextInput label={t('entry.consentLanguage')} value={language} onChange={(e) => setLanguage(e.currentTarget.value)} w={160} error={save.field === 'language' ? save.error : undefined} />
        <Checkbox label={t('entry.canRead')} checked={literate} onChange={(e) => setLiterate(e.currentTarget.checked)} mb={10} />
        <Button loading={save.busy} disabled={already} aria-describedby={already ? 'consent-why' : undefined} data-testid="consent-save" onClick={async () => {
          if (await save.run({ subjectId, version: v, language: language.trim(), isLiterate: literate, consentDatetime: new Date().toISOString() })) onDone();
        }}>{t('entry.consentSave')}</Button>
      </Group>
      {already && <Text size="sm" mt="xs" id="consent-why" data-testid="consent-why">{t('entry.consentAlready', { version: v })}</Text>}
      {save.field !== 'version' && save.field !== 'language' && <ProblemAlert state={save} mt="sm" />}
      <ChangeDialog title={dialog ? t(dialog.what === 'correct' ? 'corrections.correctConsentTitle' : 'corrections.deleteConsentTitle', { version: dialog.c.version }) : ''} opened={dialog !== null} onClose={close}>
        {dialog?.what === 'correct' && <CorrectConsent consent={dialog.c} registeredAt={registeredAt} onDone={() => { close(); onDone(); }} />}
        {dialog?.what === 'delete' && <DeleteRecord kind="consent" id={dialog.c.id} warning={t('corrections.deleteConsentWarning')} onDone={() => { close(); onDone(); }} />}
      </ChangeDialog>
    </Card>
  );
}

function AddVisit({ subjectId, nextSequence, onDone }: { subjectId: string; nextSequence: number; onDone: () => void }) {
  const t = useT();
  const add = useAction('visits.add');
  const [code, setCode] = useState<string>(VISIT_CODES[0]);
  const [reason, setReason] = useState<'scheduled' | 'unscheduled' | 'missed'>('scheduled');
  return (
    <Card withBorder>
      <Group align="end">
        <Select label={t('entry.visitLabel')} data={[...VISIT_CODES]} value={code} onChange={(v) => setCode(v ?? VISIT_CODES[0])} allowDeselect={false} w={140} />
        <Select label={t('entry.visitReason')} data={REASONS.map((r) => ({ value: r, label: t(REASON_LABEL[r]) }))} value={reason} onChange={(v) => setReason((v ?? 'scheduled') as typeof reason)} allowDeselect={false} w={180} />
        <Button loading={add.busy} data-testid="add-visit" onClick={async () => {
          const r = await add.run({ subjectId, visitCode: code as (typeof VISIT_CODES)[number], visitCodeSequence: nextSequence, visitDatetime: new Date().toISOString(), reason });
          if (r) onDone();
        }}>{t('entry.addVisit')}</Button>
      </Group>
      <ProblemAlert state={add} mt="sm" />
    </Card>
  );
}

function VisitCard({ visit, subject, registeredAt, onChange }: { visit: Visit; subject: string; registeredAt: string; onChange: () => void }) {
  const t = useT();
  const f = useFormat();
  const [dialog, setDialog] = useState<'correct' | 'delete' | null>(null);
  const close = () => setDialog(null);
  const title = visitTitle(t, visit);
  const vitalsEpoch = useEmptiedEpoch(visit.vitalSigns?.id ?? null);
  const historyEpoch = useEmptiedEpoch(visit.medicalHistory?.id ?? null);
  return (
    <Card withBorder data-testid="visit">
      <Group mb="sm" justify="space-between">
        <Group><Title order={3}>{title}</Title><Badge>{t(REASON_LABEL[visit.reason as (typeof REASONS)[number]] ?? 'entry.reasonScheduled')}</Badge><Text c="dimmed">{f.dateTime(visit.visitDatetime)}</Text></Group>
        <RecordActions what={title} onCorrect={() => setDialog('correct')} onDelete={() => setDialog('delete')} />
      </Group>
      <ChangeDialog title={t(dialog === 'delete' ? 'corrections.deleteVisitTitle' : 'corrections.correctVisitTitle', { visit: title })} opened={dialog !== null} onClose={close}>
        {dialog === 'correct' && <CorrectVisit visit={visit} registeredAt={registeredAt} onDone={() => { close(); onChange(); }} />}
        {dialog === 'delete' && <DeleteRecord kind="visit" id={visit.id} warning={t('corrections.deleteVisitWarning', { tubes: visit.requisitions.length })} onDone={() => { close(); onChange(); }} />}
      </ChangeDialog>
      <Tabs defaultValue="requisitions" keepMounted={false}>
        <Tabs.List>
          <Tabs.Tab value="requisitions">{t('entry.tabTubes', { n: visit.requisitions.length })}</Tabs.Tab>
          <Tabs.Tab value="vitals">{t('entry.tabVitals')} {visit.vitalSigns ? '✓' : ''}</Tabs.Tab>
          <Tabs.Tab value="history">{t('entry.tabHistory')} {visit.medicalHistory ? '✓' : ''}</Tabs.Tab>
        </Tabs.List>
        <Tabs.Panel value="requisitions" pt="sm"><Requisitions visit={visit} subject={subject} registeredAt={registeredAt} onCreated={() => onChange()} /></Tabs.Panel>
        {/* A deleted form starts again empty (remounted once the visit is read again without it); a save keeps the form, with its "Saved". */}
        <Tabs.Panel value="vitals" pt="sm"><VitalsForm key={vitalsEpoch} visit={visit} title={title} onSaved={() => onChange()} /></Tabs.Panel>
        <Tabs.Panel value="history" pt="sm"><HistoryForm key={historyEpoch} visit={visit} title={title} onSaved={() => onChange()} /></Tabs.Panel>
      </Tabs>
    </Card>
  );
}

/** Goes up each time a record that was there is gone (a form deleted): a key that starts that form again, empty. */
function useEmptiedEpoch(id: string | null): number {
  const [last, setLast] = useState(id);
  const [epoch, setEpoch] = useState(0);
  if (id !== last) {
    setLast(id);
    if (id === null) setEpoch(epoch + 1);
  }
  return epoch;
}

function Requisitions({ visit, subject, registeredAt, onCreated }: { visit: Visit; subject: string; registeredAt: string; onCreated: () => void }) {
  const t = useT();
  const f = useFormat();
  const create = useAction('requisitions.create');
  const whyId = useId();
  const panels = Object.keys(PANELS) as (keyof typeof PANELS)[];
  const [chosen, setChosen] = useState<string[]>([]);
  return (
    <Stack>
      <RequisitionList visit={visit} subject={subject} registeredAt={registeredAt} onChange={onCreated} />
      <Checkbox.Group label={t('entry.tubesLabel')} value={chosen} onChange={setChosen}>
        <Group mt="xs">{panels.map((p) => <Checkbox key={p} value={p} label={t('entry.tubeOption', { panel: f.value('panel', p), specimen: f.value('specimenType', PANELS[p][0]) })} />)}</Group>
      </Checkbox.Group>
      <ProblemAlert state={create} />
      {chosen.length === 0 && <Text size="sm" c="dimmed" id={whyId}>{t('entry.tubesNone')}</Text>}
      <Group>
        <Button disabled={chosen.length === 0} aria-describedby={chosen.length === 0 ? whyId : undefined} loading={create.busy} data-testid="requisition-submit" onClick={async () => {
          const r = await create.run({ visitId: visit.id, drawnDatetime: new Date().toISOString(), specimens: chosen.map((p) => ({ panel: p as keyof typeof PANELS, specimenType: PANELS[p as keyof typeof PANELS][0], itemCount: 1 })) });
          if (r) {
            setChosen([]);
            onCreated();
          }
        }}>{t('entry.tubesSubmit', { n: chosen.length })}</Button>
      </Group>
    </Stack>
  );
}

const REASONS = ['scheduled', 'unscheduled', 'missed'] as const;
const REASON_LABEL = { scheduled: 'entry.reasonScheduled', unscheduled: 'entry.reasonUnscheduled', missed: 'entry.reasonMissed' } as const satisfies Record<(typeof REASONS)[number], MessageKey>;

/** "Visit 1000", "Visit 1000 (repeat 1)": never the machine's 1000.0. */
function visitTitle(t: TFunction, v: Visit): string {
  return v.visitCodeSequence === 0 ? t('entry.visitTitle', { code: v.visitCode }) : t('entry.visitTitleRepeat', { code: v.visitCode, seq: v.visitCodeSequence });
}

/** The short "Next: …" line after each step of registration. */
function nextStep(t: TFunction, d: { consents: unknown[]; visits: Visit[] }): string {
  if (d.consents.length === 0) return t('entry.nextConsent');
  const last = d.visits[d.visits.length - 1];
  if (!last) return t('entry.nextVisit');
  if (last.requisitions.length === 0 || !last.vitalSigns) return t('entry.nextVisitWork', { visit: visitTitle(t, last) });
  return t('entry.nextDone');
}

type VitalsValues = z.infer<typeof vitalSignsInput>;
type VitalKey = Exclude<keyof VitalsValues, 'visitId'>;
type VitalsText = Record<VitalKey, string>;
const VITALS: { key: VitalKey; label: MessageKey; decimals: number; example: number }[] = [
  { key: 'weightKg', label: 'entry.weightKg', decimals: 1, example: 70.5 },
  { key: 'heightCm', label: 'entry.heightCm', decimals: 1, example: 165.5 },
  { key: 'systolic', label: 'entry.systolic', decimals: 0, example: 120 },
  { key: 'diastolic', label: 'entry.diastolic', decimals: 0, example: 80 },
  { key: 'temperatureC', label: 'entry.temperatureC', decimals: 1, example: 36.8 },
  { key: 'oxygenSaturation', label: 'entry.oxygenSaturation', decimals: 0, example: 97 },
];
const NUMBER_REASON: Record<NumberRefusal, MessageKey> = { 'not-a-number': 'entry.notANumber', 'two-decimal-marks': 'entry.twoMarks', 'too-many-decimals': 'entry.tooManyDecimals' };

/**
 * Typed text → numbers (decimal comma or point, shared/numbers.ts) → the backend's own schema (ranges, whole numbers)
 * on the parsed values. "4,2" kg is 4.2, never 42; "368" °C is refused with the range.
 */
function vitalsResolver(t: TFunction, f: Formatters, visitId: string): Resolver<VitalsText, unknown, VitalsValues> {
  return async (text) => {
    const errors: FieldErrors<VitalsText> = {};
    const parsed: Partial<Record<VitalKey, number | null>> = {};
    for (const { key, label, decimals, example } of VITALS) {
      const r = parseDecimal(text[key] ?? '', { maxDecimals: decimals });
      if (r.ok) parsed[key] = r.value;
      else errors[key] = { type: r.reason, message: t(NUMBER_REASON[r.reason], { label: t(label), text: text[key] ?? '', example: f.number(example, decimals), n: decimals }) };
    }
    if (Object.keys(errors).length === 0) {
      const checked = vitalSignsInput.safeParse({ visitId, ...parsed });
      if (checked.success) return { values: checked.data, errors: {} };
      for (const issue of checked.error.issues) {
        const key = issue.path[0] as VitalKey;
        const def = VITALS.find((x) => x.key === key);
        if (def && !errors[key]) errors[key] = { type: issue.code, message: rangeHint(t, key, t(def.label)) };
      }
    }
    return { values: {}, errors };
  };
}

/** Vital signs, typed as text and checked field by field against the same schema the backend applies. */
function VitalsForm({ visit, title, onSaved }: { visit: Visit; title: string; onSaved: () => void }) {
  const t = useT();
  const f = useFormat();
  const save = useAction('crf.vitalSigns.save');
  const v = visit.vitalSigns;
  const resolver = useMemo(() => vitalsResolver(t, f, visit.id), [t, f, visit.id]);
  const shown = (n: number | null | undefined, decimals: number) => (n === null || n === undefined ? '' : f.number(n, decimals).replace(/[\s\u00a0\u202f]/g, ''));
  const form = useForm<VitalsText, unknown, VitalsValues>({
    resolver,
    defaultValues: Object.fromEntries(VITALS.map(({ key, decimals }) => [key, shown(v?.[key], decimals)])) as VitalsText,
  });
  const submit = form.handleSubmit(async (values) => {
    if (await save.run(values)) onSaved();
  });
  return (
    <Stack align="flex-start">
      <form onSubmit={(e) => void submit(e)} aria-label={t('entry.tabVitals')} noValidate style={{ alignSelf: 'stretch' }}>
        <Stack>
          <SimpleGrid cols={{ base: 2, md: 3 }}>
            {VITALS.map(({ key, label, decimals, example }) => (
              <TextInput key={key} label={t(label)} inputMode="decimal" autoComplete="off" placeholder={t('entry.numberHint', { example: f.number(example, decimals) })}
                {...form.register(key)} error={form.formState.errors[key]?.message ?? (save.field === key ? save.error : undefined)} data-testid={`vital-${key}`} />
            ))}
          </SimpleGrid>
          {!VITALS.some((x) => x.key === save.field) && <ProblemAlert state={save} />}
          {save.result && !save.busy && <Alert color={OK_COLOR} data-testid="vitals-saved">{t('common.saved')}</Alert>}
          <Group><Button type="submit" loading={save.busy}>{t('entry.vitalsSave')}</Button></Group>
        </Stack>
      </form>
      {/* Outside the form: the delete's form is in a dialog (a portal), and React bubbles its submit up the component tree. */}
      {v && <DeleteForm kind="vitalSigns" id={v.id} label={t('corrections.deleteVitals')} title={t('corrections.deleteVitalsFor', { visit: title })} warning={t('corrections.deleteVitalsWarning')} onDone={onSaved} />}
    </Stack>
  );
}

/** The allowed range of a vital sign, as the schema says it (shown when a value is outside it). */
function rangeHint(t: TFunction, key: VitalKey, label: string): string {
  let schema: z.ZodType = vitalSignsInput.shape[key];
  while (schema instanceof z.ZodOptional || schema instanceof z.ZodNullable) schema = schema.unwrap() as z.ZodType;
  const { minValue, maxValue, isInt } = schema as z.ZodNumber;
  return t(isInt ? 'entry.rangeWhole' : 'entry.range', { label, min: minValue ?? 0, max: maxValue ?? 0 });
}

function HistoryForm({ visit, title, onSaved }: { visit: Visit; title: string; onSaved: () => void }) {
  const t = useT();
  const save = useAction('crf.medicalHistory.save');
  const m = visit.medicalHistory;
  const [hypertension, setHypertension] = useState(m?.hypertension ?? false);
  const [diabetes, setDiabetes] = useState(m?.diabetes ?? false);
  const [hiv, setHiv] = useState<'positive' | 'negative' | 'unknown'>(m?.hivStatus ?? 'unknown');
  const [meds, setMeds] = useState(m?.currentMedications ?? '');
  return (
    <Stack>
      <Group><Checkbox label={t('entry.hypertension')} checked={hypertension} onChange={(e) => setHypertension(e.currentTarget.checked)} /><Checkbox label={t('entry.diabetes')} checked={diabetes} onChange={(e) => setDiabetes(e.currentTarget.checked)} /></Group>
      <Select label={t('entry.hivStatus')} data={[{ value: 'positive', label: t('entry.hivPositive') }, { value: 'negative', label: t('entry.hivNegative') }, { value: 'unknown', label: t('entry.hivUnknown') }]} value={hiv} onChange={(v) => setHiv((v ?? 'unknown') as typeof hiv)} allowDeselect={false} w={220} />
      <Textarea label={t('entry.medications')} value={meds} onChange={(e) => setMeds(e.currentTarget.value)} maxLength={2000} />
      <ProblemAlert state={save} />
      {save.result && !save.busy && <Alert color={OK_COLOR}>{t('common.saved')}</Alert>}
      <Group><Button loading={save.busy} onClick={async () => {
        const r = await save.run({ visitId: visit.id, hypertension, diabetes, hivStatus: hiv, currentMedications: meds.trim() ? meds.trim() : null });
        if (r) onSaved();
      }}>{t('entry.historySave')}</Button>
        {m && <DeleteForm kind="medicalHistory" id={m.id} label={t('corrections.deleteHistory')} title={t('corrections.deleteHistoryFor', { visit: title })} warning={t('corrections.deleteHistoryWarning')} onDone={onSaved} />}
      </Group>
    </Stack>
  );
}

/** "Delete vital signs" / "Delete medical history": the visit's form alone, with a reason (the visit and its tubes stay). */
function DeleteForm({ kind, id, label, title, warning, onDone }: { kind: 'vitalSigns' | 'medicalHistory'; id: string; label: string; title: string; warning: string; onDone: () => void }) {
  const [open, setOpen] = useState(false);
  return (
    <>
      <Button variant="subtle" color="red" aria-label={title} onClick={() => setOpen(true)} data-testid={`delete-${kind}`}>{label}</Button>
      <ChangeDialog title={title} opened={open} onClose={() => setOpen(false)}>
        <DeleteRecord kind={kind} id={id} warning={warning} onDone={() => { setOpen(false); onDone(); }} />
      </ChangeDialog>
    </>
  );
}
