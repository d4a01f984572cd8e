import { Alert, Badge, Button, Card, Checkbox, Group, NumberInput, Select, SimpleGrid, Stack, Table, Tabs, Text, TextInput, Textarea, Title } from '@mantine/core';
import { zodResolver } from '@hookform/resolvers/zod';
import { useState } from 'react';
import { Controller, useForm } from 'react-hook-form';
import { z } from 'zod';
import { contract, type SubjectSummary, type Visit } from '../../../shared/contract.ts';
import { PANELS, VISIT_CODES, vitalSignsInput } from '../../../shared/domain.ts';
import { useAction, useCall } from '../hooks.ts';
import { LabelSheet } from './Labels.tsx';

export function DataEntryScreen() {
  const [query, setQuery] = useState('');
  const [submitted, setSubmitted] = useState('');
  const [selected, setSelected] = useState<string | null>(null);
  const [registering, setRegistering] = useState(false);
  const results = useCall('subjects.search', { query: submitted });
  if (selected) return <SubjectScreen id={selected} onBack={() => { setSelected(null); void results.reload(); }} />;
  return (
    <Stack>
      <Title order={2}>Data entry</Title>
      <Card withBorder>
        <form onSubmit={(e) => { e.preventDefault(); setSubmitted(query.trim()); }}>
          <Group align="end">
            <TextInput label="Find a subject" description="Subject identifier or identity number (exact)" value={query} onChange={(e) => setQuery(e.currentTarget.value)} w={380} autoFocus />
            <Button type="submit">Find</Button>
            <Button variant="light" onClick={() => setRegistering(true)} data-testid="register-open">Register a new subject</Button>
          </Group>
        </form>
      </Card>
      {registering && <RegisterForm onDone={(s) => { setRegistering(false); if (s) setSelected(s.id); }} />}
      {results.error && <Alert color="red">{results.error}</Alert>}
      <Table striped highlightOnHover>
        <Table.Thead><Table.Tr><Table.Th>Subject</Table.Th><Table.Th>Name</Table.Th><Table.Th>Born</Table.Th><Table.Th>Registered</Table.Th><Table.Th /></Table.Tr></Table.Thead>
        <Table.Tbody>
          {(results.data ?? []).map((s) => (
            <Table.Tr key={s.id}>
              <Table.Td>{s.subjectIdentifier}</Table.Td><Table.Td>{s.firstName} {s.lastName}</Table.Td><Table.Td>{s.dob}</Table.Td>
              <Table.Td>{new Date(s.registrationDatetime).toLocaleDateString()}</Table.Td>
              <Table.Td><Button size="xs" onClick={() => setSelected(s.id)}>Open</Button></Table.Td>
            </Table.Tr>
          ))}
          {results.data?.length === 0 && <Table.Tr><Table.Td colSpan={5}><Text c="dimmed">No subject found{submitted ? ` for "${submitted}"` : ' yet'}.</Text></Table.Td></Table.Tr>}
        </Table.Tbody>
      </Table>
    </Stack>
  );
}

const registerSchema = contract['subjects.register'].input.extend({ phone: z.string().trim().regex(/^(\+?[0-9 ]{6,20})?$/, 'digits and spaces, optional +') });

function RegisterForm({ onDone }: { onDone: (s: SubjectSummary | null) => void }) {
  const register = useAction('subjects.register');
  const form = useForm<z.input<typeof registerSchema>>({ resolver: zodResolver(registerSchema), defaultValues: { firstName: '', lastName: '', dob: '', identityNumber: '', phone: '', gender: 'F' } });
  const e = form.formState.errors;
  const submit = form.handleSubmit(async (v) => {
    const s = await register.run({ ...v, phone: v.phone ? v.phone : null });
    if (s) onDone(s);
  });
  return (
    <Card withBorder>
      <form onSubmit={(ev) => void submit(ev)} aria-label="Register a subject">
        <Stack>
          <Title order={3}>Register a subject</Title>
          <SimpleGrid cols={{ base: 1, md: 3 }}>
            <TextInput label="First name" autoFocus {...form.register('firstName')} error={e.firstName?.message} />
            <TextInput label="Last name" {...form.register('lastName')} error={e.lastName?.message} />
            <TextInput label="Date of birth" placeholder="YYYY-MM-DD" description="year-month-day, e.g. 1990-04-12" inputMode="numeric" {...form.register('dob')} error={e.dob?.message ? 'Use year-month-day, e.g. 1990-04-12' : undefined} />
            <TextInput label="Identity number" {...form.register('identityNumber')} error={e.identityNumber?.message} />
            <TextInput label="Phone (optional)" {...form.register('phone')} error={e.phone?.message} />
            <Controller control={form.control} name="gender" render={({ field }) => (
              <Select label="Gender" data={[{ value: 'F', label: 'Female' }, { value: 'M', label: 'Male' }]} value={field.value} onChange={(v) => field.onChange(v ?? 'F')} allowDeselect={false} />
            )} />
          </SimpleGrid>
          {register.error && <Alert color="red" role="alert">{register.error}</Alert>}
          <Group><Button type="submit" loading={register.busy}>Register</Button><Button variant="subtle" onClick={() => onDone(null)}>Cancel</Button></Group>
        </Stack>
      </form>
    </Card>
  );
}

function SubjectScreen({ id, onBack }: { id: string; onBack: () => void }) {
  const detail = useCall('subjects.get', { id });
  const d = detail.data;
  return (
    <Stack>
      <Group><Button variant="subtle" onClick={onBack}>← All subjects</Button></Group>
      {detail.error && <Alert color="red">{detail.error}</Alert>}
      {d && (
        <>
          <Title order={2} data-testid="subject-title">{d.subject.subjectIdentifier} · {d.subject.firstName} {d.subject.lastName}</Title>
          <Text c="dimmed">Born {d.subject.dob} · {d.subject.gender === 'F' ? 'female' : 'male'}</Text>
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
  const save = useAction('consent.save');
  const [version, setVersion] = useState('1.0');
  const [language, setLanguage] = useState('en');
  const [literate, setLiterate] = useState(true);
  return (
    <Card withBorder>
      <Title order={3} mb="xs">Consent</Title>
      {consents.length === 0 ? <Text c="dimmed" mb="sm">No consent recorded yet.</Text> : (
        <Table mb="sm" data-testid="consents">
          <Table.Tbody>{consents.map((c) => (
            <Table.Tr key={c.id}><Table.Td>version {c.version}</Table.Td><Table.Td>{new Date(c.consentDatetime).toLocaleString()}</Table.Td><Table.Td>{c.language}</Table.Td><Table.Td>{c.isLiterate ? 'literate' : 'witnessed (not literate)'}</Table.Td></Table.Tr>
          ))}</Table.Tbody>
        </Table>
      )}
      <Group align="end">
        <TextInput label="Consent version" value={version} onChange={(e) => setVersion(e.currentTarget.value)} w={140} />
        <TextInput label="Language" value={language} onChange={(e) => setLanguage(e.currentTarget.value)} w={120} />
        <Checkbox label="Participant can read and write" checked={literate} onChange={(e) => setLiterate(e.currentTarget.checked)} mb={10} />
        <Button loading={save.busy} data-testid="consent-save" onClick={async () => {
          if (await save.run({ subjectId, version: version.trim(), language: language.trim(), isLiterate: literate, consentDatetime: new Date().toISOString() })) onDone();
        }}>Record consent (now)</Button>
      </Group>
      {save.error && <Alert color="red" mt="sm" role="alert">{save.error}</Alert>}
    </Card>
  );
}

function AddVisit({ subjectId, nextSequence, onDone }: { subjectId: string; nextSequence: number; onDone: () => void }) {
  const add = useAction('visits.add');
  const [code, setCode] = useState<string>(VISIT_CODES[0]);
  const [reason, setReason] = useState<'scheduled' | 'unscheduled' | 'missed'>('scheduled');
  return (
    <Card withBorder>
      <Group align="end">
        <Select label="Visit" data={[...VISIT_CODES]} value={code} onChange={(v) => setCode(v ?? VISIT_CODES[0])} allowDeselect={false} w={140} />
        <Select label="Reason" data={['scheduled', 'unscheduled', 'missed']} value={reason} onChange={(v) => setReason((v ?? 'scheduled') as typeof reason)} allowDeselect={false} w={180} />
        <Button loading={add.busy} data-testid="add-visit" onClick={async () => {
          const r = await add.run({ subjectId, visitCode: code as (typeof VISIT_CODES)[number], visitCodeSequence: nextSequence, visitDatetime: new Date().toISOString(), reason });
          if (r) onDone();
        }}>Add visit</Button>
      </Group>
      {add.error && <Alert color="red" mt="sm" role="alert">{add.error}</Alert>}
    </Card>
  );
}

function VisitCard({ visit, subject, onChange }: { visit: Visit; subject: string; onChange: () => void }) {
  return (
    <Card withBorder data-testid="visit">
      <Group mb="sm"><Title order={3}>Visit {visit.visitCode}.{visit.visitCodeSequence}</Title><Badge>{visit.reason}</Badge><Text c="dimmed">{new Date(visit.visitDatetime).toLocaleString()}</Text></Group>
      <Tabs defaultValue="requisitions" keepMounted={false}>
        <Tabs.List>
          <Tabs.Tab value="requisitions">Specimens ({visit.requisitions.length})</Tabs.Tab>
          <Tabs.Tab value="vitals">Vital signs {visit.vitalSigns ? '✓' : ''}</Tabs.Tab>
          <Tabs.Tab value="history">Medical history {visit.medicalHistory ? '✓' : ''}</Tabs.Tab>
        </Tabs.List>
        <Tabs.Panel value="requisitions" pt="sm"><Requisitions visit={visit} subject={subject} onCreated={() => onChange()} /></Tabs.Panel>
        <Tabs.Panel value="vitals" pt="sm"><VitalsForm visit={visit} onSaved={() => onChange()} /></Tabs.Panel>
        <Tabs.Panel value="history" pt="sm"><HistoryForm visit={visit} onSaved={() => onChange()} /></Tabs.Panel>
      </Tabs>
    </Card>
  );
}

function Requisitions({ visit, subject, onCreated }: { visit: Visit; subject: string; onCreated: () => void }) {
  const create = useAction('requisitions.create');
  const panels = Object.keys(PANELS) as (keyof typeof PANELS)[];
  const [chosen, setChosen] = useState<string[]>([]);
  return (
    <Stack>
      {visit.requisitions.length > 0 && (
        <>
          <Table data-testid="requisitions">
            <Table.Thead><Table.Tr><Table.Th>Requisition</Table.Th><Table.Th>Panel</Table.Th><Table.Th>Specimen</Table.Th><Table.Th>Drawn</Table.Th></Table.Tr></Table.Thead>
            <Table.Tbody>{visit.requisitions.map((r) => (
              <Table.Tr key={r.id}><Table.Td data-testid="requisition-id">{r.requisitionIdentifier}</Table.Td><Table.Td>{r.panel}</Table.Td><Table.Td>{r.specimenType}</Table.Td><Table.Td>{new Date(r.drawnDatetime).toLocaleString()}</Table.Td></Table.Tr>
            ))}</Table.Tbody>
          </Table>
          <LabelSheet requisitions={visit.requisitions} subject={subject} />
        </>
      )}
      <Checkbox.Group label="Requisition specimens (drawn now)" value={chosen} onChange={setChosen}>
        <Group mt="xs">{panels.map((p) => <Checkbox key={p} value={p} label={`${p} (${PANELS[p][0]})`} />)}</Group>
      </Checkbox.Group>
      {create.error && <Alert color="red" role="alert">{create.error}</Alert>}
      <Group>
        <Button disabled={chosen.length === 0} loading={create.busy} data-testid="requisition-submit" onClick={async () => {
          const r = await create.run({ visitId: visit.id, drawnDatetime: new Date().toISOString(), specimens: chosen.map((p) => ({ panel: p as keyof typeof PANELS, specimenType: PANELS[p as keyof typeof PANELS][0], itemCount: 1 })) });
          if (r) {
            setChosen([]);
            onCreated();
          }
        }}>Requisition {chosen.length || ''} specimen(s)</Button>
      </Group>
    </Stack>
  );
}

type VitalsValues = z.infer<typeof vitalSignsInput>;
const VITALS: { key: Exclude<keyof VitalsValues, 'visitId'>; label: string; decimals: number }[] = [
  { key: 'weightKg', label: 'Weight (kg)', decimals: 1 },
  { key: 'heightCm', label: 'Height (cm)', decimals: 1 },
  { key: 'systolic', label: 'Systolic (mmHg)', decimals: 0 },
  { key: 'diastolic', label: 'Diastolic (mmHg)', decimals: 0 },
  { key: 'temperatureC', label: 'Temperature (°C)', decimals: 1 },
];

/** Vital signs, checked field by field against the same schema the backend applies (ranges, whole numbers). */
function VitalsForm({ visit, onSaved }: { visit: Visit; onSaved: () => void }) {
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
              <NumberInput label={label} decimalScale={decimals} value={field.value ?? ''} onBlur={field.onBlur}
                onChange={(x) => field.onChange(x === '' ? null : Number(x))} error={fieldState.error ? `${label}: ${rangeHint(key)}` : undefined} />
            )} />
          ))}
        </SimpleGrid>
        {save.error && <Alert color="red" role="alert">{save.error}</Alert>}
        {save.result && !save.busy && <Alert color="green" data-testid="vitals-saved">Saved.</Alert>}
        <Group><Button type="submit" loading={save.busy}>Save vital signs</Button></Group>
      </Stack>
    </form>
  );
}

/** The allowed range of a vital sign, as the schema says it (shown when a value is outside it). */
function rangeHint(key: (typeof VITALS)[number]['key']): string {
  const { minValue, maxValue, isInt } = vitalSignsInput.shape[key].unwrap();
  return `${minValue ?? '?'}–${maxValue ?? '?'}${isInt ? ', whole number' : ''}, or empty`;
}

function HistoryForm({ visit, onSaved }: { visit: Visit; onSaved: () => void }) {
  const save = useAction('crf.medicalHistory.save');
  const m = visit.medicalHistory;
  const [hypertension, setHypertension] = useState(m?.hypertension ?? false);
  const [diabetes, setDiabetes] = useState(m?.diabetes ?? false);
  const [hiv, setHiv] = useState<'positive' | 'negative' | 'unknown'>(m?.hivStatus ?? 'unknown');
  const [meds, setMeds] = useState(m?.currentMedications ?? '');
  return (
    <Stack>
      <Group><Checkbox label="Hypertension" checked={hypertension} onChange={(e) => setHypertension(e.currentTarget.checked)} /><Checkbox label="Diabetes" checked={diabetes} onChange={(e) => setDiabetes(e.currentTarget.checked)} /></Group>
      <Select label="HIV status" data={['positive', 'negative', 'unknown']} value={hiv} onChange={(v) => setHiv((v ?? 'unknown') as typeof hiv)} allowDeselect={false} w={220} />
      <Textarea label="Current medications" value={meds} onChange={(e) => setMeds(e.currentTarget.value)} maxLength={2000} />
      {save.error && <Alert color="red" role="alert">{save.error}</Alert>}
      {save.result && !save.busy && <Alert color="green">Saved.</Alert>}
      <Group><Button loading={save.busy} onClick={async () => {
        const r = await save.run({ visitId: visit.id, hypertension, diabetes, hivStatus: hiv, currentMedications: meds.trim() ? meds.trim() : null });
        if (r) onSaved();
      }}>Save medical history</Button></Group>
    </Stack>
  );
}
