import { Alert, Badge, Button, Card, Checkbox, Group, NumberInput, Select, SimpleGrid, Stack, Table, Tabs, Text, TextInput, Textarea, Title } from '@mantine/core';
import { zodResolver } from '@hookform/resolvers/zod';
import { useState } from 'react';
import { Controller, useForm } from 'react-hook-form';
import { z } from 'zod';
import { contract, type SubjectSummary, type Visit } from '../../../shared/contract.ts';
import { PANELS, VISIT_CODES, vitalSignsInput } from '../../../shared/domain.ts';
import { useAction, useCall } from '../hooks.ts';
import { useFormat, useT, type MessageKey, type TFunction } from '../i18n.tsx';
import { LabelSheet } from './Labels.tsx';

export function DataEntryScreen() {
  const t = useT();
  const f = useFormat();
  const [query, setQuery] = useState('');
  const [submitted, setSubmitted] = useState('');
  const [selected, setSelected] = useState<string | null>(null);
  const [registering, setRegistering] = useState(false);
  const results = useCall('subjects.search', { query: submitted });
  if (selected) return <SubjectScreen id={selected} onBack={() => { setSelected(null); void results.reload(); }} />;
  return (
    <Stack>
      <Title order={2}>{t('entry.title')}</Title>
      <Card withBorder>
        <form onSubmit={(e) => { e.preventDefault(); setSubmitted(query.trim()); }}>
          <Group align="end">
            <TextInput label={t('entry.findLabel')} description={t('entry.findHint')} value={query} onChange={(e) => setQuery(e.currentTarget.value)} w={380} autoFocus />
            <Button type="submit">{t('common.find')}</Button>
            <Button variant="light" onClick={() => setRegistering(true)} data-testid="register-open">{t('entry.register')}</Button>
          </Group>
        </form>
      </Card>
      {registering && <RegisterForm onDone={(s) => { setRegistering(false); if (s) setSelected(s.id); }} />}
      {results.error && <Alert color="red">{results.error}</Alert>}
      <Table striped highlightOnHover>
        <Table.Thead><Table.Tr><Table.Th>{t('entry.colParticipant')}</Table.Th><Table.Th>{t('entry.colName')}</Table.Th><Table.Th>{t('entry.colBorn')}</Table.Th><Table.Th>{t('entry.colRegistered')}</Table.Th><Table.Th /></Table.Tr></Table.Thead>
        <Table.Tbody>
          {(results.data ?? []).map((s) => (
            <Table.Tr key={s.id}>
              <Table.Td>{s.subjectIdentifier}</Table.Td><Table.Td>{s.firstName} {s.lastName}</Table.Td><Table.Td>{f.dob(s.dob)}</Table.Td>
              <Table.Td>{f.date(s.registrationDatetime)}</Table.Td>
              <Table.Td><Button size="xs" onClick={() => setSelected(s.id)}>{t('common.open')}</Button></Table.Td>
            </Table.Tr>
          ))}
          {results.data?.length === 0 && <Table.Tr><Table.Td colSpan={5}><Text c="dimmed">{submitted ? t('entry.noneFound', { query: submitted }) : t('entry.noneYet')}</Text></Table.Td></Table.Tr>}
        </Table.Tbody>
      </Table>
    </Stack>
  );
}

const registerSchema = contract['subjects.register'].input.extend({ phone: z.string().trim().regex(/^(\+?[0-9 ]{6,20})?$/, 'digits and spaces, optional +') });

function RegisterForm({ onDone }: { onDone: (s: SubjectSummary | null) => void }) {
  const t = useT();
  const register = useAction('subjects.register');
  const form = useForm<z.input<typeof registerSchema>>({ resolver: zodResolver(registerSchema), defaultValues: { firstName: '', lastName: '', dob: '', identityNumber: '', phone: '', gender: 'F' } });
  const e = form.formState.errors;
  const submit = form.handleSubmit(async (v) => {
    const s = await register.run({ ...v, phone: v.phone ? v.phone : null });
    if (s) onDone(s);
  });
  return (
    <Card withBorder>
      <form onSubmit={(ev) => void submit(ev)} aria-label={t('entry.registerTitle')}>
        <Stack>
          <Title order={3}>{t('entry.registerTitle')}</Title>
          <SimpleGrid cols={{ base: 1, md: 3 }}>
            <TextInput label={t('entry.firstName')} autoFocus {...form.register('firstName')} error={e.firstName?.message} />
            <TextInput label={t('entry.lastName')} {...form.register('lastName')} error={e.lastName?.message} />
            <TextInput label={t('entry.dob')} description={t('entry.dobHint')} {...form.register('dob')} error={e.dob?.message ? t('entry.dobHint') : undefined} />
            <TextInput label={t('entry.identityNumber')} {...form.register('identityNumber')} error={e.identityNumber?.message} />
            <TextInput label={t('entry.phone')} {...form.register('phone')} error={e.phone?.message} />
            <Controller control={form.control} name="gender" render={({ field }) => (
              <Select label={t('entry.gender')} data={[{ value: 'F', label: t('entry.female') }, { value: 'M', label: t('entry.male') }]} value={field.value} onChange={(v) => field.onChange(v ?? 'F')} allowDeselect={false} />
            )} />
          </SimpleGrid>
          {register.error && <Alert color="red" role="alert">{register.error}</Alert>}
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
  return (
    <Stack>
      <Group><Button variant="subtle" onClick={onBack}>{t('entry.backToList')}</Button></Group>
      {detail.error && <Alert color="red">{detail.error}</Alert>}
      {d && (
        <>
          <Title order={2} data-testid="subject-title">{d.subject.subjectIdentifier} · {d.subject.firstName} {d.subject.lastName}</Title>
          <Text c="dimmed">{t('entry.born', { dob: f.dob(d.subject.dob) })} · {d.subject.gender === 'F' ? t('entry.genderF') : t('entry.genderM')}</Text>
          <Text fw={600} data-testid="next-step">{t('entry.next', { step: nextStep(t, d) })}</Text>
          <Consents subjectId={id} consents={d.consents} onDone={() => void detail.reload()} />
          <AddVisit subjectId={id} nextSequence={d.visits.length} onDone={() => void detail.reload()} />
          {d.visits.map((v) => (
            <VisitCard key={v.id} visit={v} subject={d.subject.subjectIdentifier} onChange={() => void detail.reload()} />
          ))}
        </>
      )}
    </Stack>
  );
}

function Consents({ subjectId, consents, onDone }: { subjectId: string; consents: { id: string; version: string; consentDatetime: string; isLiterate: boolean; language: string }[]; onDone: () => void }) {
  const t = useT();
  const f = useFormat();
  const save = useAction('consent.save');
  const [version, setVersion] = useState('1.0');
  const [language, setLanguage] = useState('en');
  const [literate, setLiterate] = useState(true);
  return (
    <Card withBorder>
      <Title order={3} mb="xs">{t('entry.consentTitle')}</Title>
      {consents.length === 0 ? <Text c="dimmed" mb="sm">{t('entry.noConsent')}</Text> : (
        <Table mb="sm" data-testid="consents">
          <Table.Tbody>{consents.map((c) => (
            <Table.Tr key={c.id}><Table.Td>{t('entry.consentVersionShort', { version: c.version })}</Table.Td><Table.Td>{f.dateTime(c.consentDatetime)}</Table.Td><Table.Td>{c.language}</Table.Td><Table.Td>{c.isLiterate ? t('entry.literate') : t('entry.witnessed')}</Table.Td></Table.Tr>
          ))}</Table.Tbody>
        </Table>
      )}
      <Group align="end">
        <TextInput label={t('entry.consentVersion')} value={version} onChange={(e) => setVersion(e.currentTarget.value)} w={140} />
        <TextInput label={t('entry.consentLanguage')} value={language} onChange={(e) => setLanguage(e.currentTarget.value)} w={120} />
        <Checkbox label={t('entry.canRead')} checked={literate} onChange={(e) => setLiterate(e.currentTarget.checked)} mb={10} />
        <Button loading={save.busy} data-testid="consent-save" onClick={async () => {
          if (await save.run({ subjectId, version: version.trim(), language: language.trim(), isLiterate: literate, consentDatetime: new Date().toISOString() })) onDone();
        }}>{t('entry.consentSave')}</Button>
      </Group>
      {save.error && <Alert color="red" mt="sm" role="alert">{save.error}</Alert>}
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
      {add.error && <Alert color="red" mt="sm" role="alert">{add.error}</Alert>}
    </Card>
  );
}

function VisitCard({ visit, subject, onChange }: { visit: Visit; subject: string; onChange: () => void }) {
  const t = useT();
  const f = useFormat();
  return (
    <Card withBorder data-testid="visit">
      <Group mb="sm"><Title order={3}>{visitTitle(t, visit)}</Title><Badge>{t(REASON_LABEL[visit.reason as (typeof REASONS)[number]] ?? 'entry.reasonScheduled')}</Badge><Text c="dimmed">{f.dateTime(visit.visitDatetime)}</Text></Group>
      <Tabs defaultValue="requisitions" keepMounted={false}>
        <Tabs.List>
          <Tabs.Tab value="requisitions">{t('entry.tabTubes', { n: visit.requisitions.length })}</Tabs.Tab>
          <Tabs.Tab value="vitals">{t('entry.tabVitals')} {visit.vitalSigns ? '✓' : ''}</Tabs.Tab>
          <Tabs.Tab value="history">{t('entry.tabHistory')} {visit.medicalHistory ? '✓' : ''}</Tabs.Tab>
        </Tabs.List>
        <Tabs.Panel value="requisitions" pt="sm"><Requisitions visit={visit} subject={subject} onCreated={() => onChange()} /></Tabs.Panel>
        <Tabs.Panel value="vitals" pt="sm"><VitalsForm visit={visit} onSaved={() => onChange()} /></Tabs.Panel>
        <Tabs.Panel value="history" pt="sm"><HistoryForm visit={visit} onSaved={() => onChange()} /></Tabs.Panel>
      </Tabs>
    </Card>
  );
}

function Requisitions({ visit, subject, onCreated }: { visit: Visit; subject: string; onCreated: () => void }) {
  const t = useT();
  const f = useFormat();
  const create = useAction('requisitions.create');
  const panels = Object.keys(PANELS) as (keyof typeof PANELS)[];
  const [chosen, setChosen] = useState<string[]>([]);
  return (
    <Stack>
      {visit.requisitions.length > 0 && (
        <>
          <Table data-testid="requisitions">
            <Table.Thead><Table.Tr><Table.Th>{t('entry.colTube')}</Table.Th><Table.Th>{t('entry.colPanel')}</Table.Th><Table.Th>{t('entry.colSpecimen')}</Table.Th><Table.Th>{t('entry.colDrawn')}</Table.Th></Table.Tr></Table.Thead>
            <Table.Tbody>{visit.requisitions.map((r) => (
              <Table.Tr key={r.id}><Table.Td data-testid="requisition-id">{r.requisitionIdentifier}</Table.Td><Table.Td>{r.panel}</Table.Td><Table.Td>{r.specimenType}</Table.Td><Table.Td>{f.dateTime(r.drawnDatetime)}</Table.Td></Table.Tr>
            ))}</Table.Tbody>
          </Table>
          <LabelSheet requisitions={visit.requisitions} subject={subject} />
        </>
      )}
      <Checkbox.Group label={t('entry.tubesLabel')} value={chosen} onChange={setChosen}>
        <Group mt="xs">{panels.map((p) => <Checkbox key={p} value={p} label={t('entry.tubeOption', { panel: p, specimen: PANELS[p][0] })} />)}</Group>
      </Checkbox.Group>
      {create.error && <Alert color="red" role="alert">{create.error}</Alert>}
      <Group>
        <Button disabled={chosen.length === 0} loading={create.busy} data-testid="requisition-submit" onClick={async () => {
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
const VITALS: { key: Exclude<keyof VitalsValues, 'visitId'>; label: MessageKey; decimals: number }[] = [
  { key: 'weightKg', label: 'entry.weightKg', decimals: 1 },
  { key: 'heightCm', label: 'entry.heightCm', decimals: 1 },
  { key: 'systolic', label: 'entry.systolic', decimals: 0 },
  { key: 'diastolic', label: 'entry.diastolic', decimals: 0 },
  { key: 'temperatureC', label: 'entry.temperatureC', decimals: 1 },
];

/** Vital signs, checked field by field against the same schema the backend applies (ranges, whole numbers). */
function VitalsForm({ visit, onSaved }: { visit: Visit; onSaved: () => void }) {
  const t = useT();
  const save = useAction('crf.vitalSigns.save');
  const v = visit.vitalSigns;
  const form = useForm<VitalsValues>({
    resolver: zodResolver(vitalSignsInput),
    defaultValues: { visitId: visit.id, weightKg: v?.weightKg ?? null, heightCm: v?.heightCm ?? null, systolic: v?.systolic ?? null, diastolic: v?.diastolic ?? null, temperatureC: v?.temperatureC ?? null },
  });
  const submit = form.handleSubmit(async (values) => {
    if (await save.run(values)) onSaved();
  });
  return (
    <form onSubmit={(e) => void submit(e)} aria-label="Vital signs">
      <Stack>
        <SimpleGrid cols={{ base: 2, md: 5 }}>
          {VITALS.map(({ key, label, decimals }) => (
            <Controller key={key} control={form.control} name={key} render={({ field, fieldState }) => (
              <NumberInput label={t(label)} decimalScale={decimals} value={field.value ?? ''} onBlur={field.onBlur}
                onChange={(x) => field.onChange(x === '' ? null : Number(x))} error={fieldState.error ? rangeHint(t, key, t(label)) : undefined} />
            )} />
          ))}
        </SimpleGrid>
        {save.error && <Alert color="red" role="alert">{save.error}</Alert>}
        {save.result && !save.busy && <Alert color="green" data-testid="vitals-saved">{t('common.saved')}</Alert>}
        <Group><Button type="submit" loading={save.busy}>{t('entry.vitalsSave')}</Button></Group>
      </Stack>
    </form>
  );
}

/** The allowed range of a vital sign, as the schema says it (shown when a value is outside it). */
function rangeHint(t: TFunction, key: (typeof VITALS)[number]['key'], label: string): string {
  const { minValue, maxValue, isInt } = vitalSignsInput.shape[key].unwrap();
  return t(isInt ? 'entry.rangeWhole' : 'entry.range', { label, min: minValue ?? 0, max: maxValue ?? 0 });
}

function HistoryForm({ visit, onSaved }: { visit: Visit; onSaved: () => void }) {
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
      {save.error && <Alert color="red" role="alert">{save.error}</Alert>}
      {save.result && !save.busy && <Alert color="green">{t('common.saved')}</Alert>}
      <Group><Button loading={save.busy} onClick={async () => {
        const r = await save.run({ visitId: visit.id, hypertension, diabetes, hivStatus: hiv, currentMedications: meds.trim() ? meds.trim() : null });
        if (r) onSaved();
      }}>{t('entry.historySave')}</Button></Group>
    </Stack>
  );
}
