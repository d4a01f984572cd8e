/**
 * Correcting and deleting on the field laptop: a participant's details, a consent, a visit, a blood tube's test.
 * Each form checks what the entry form checks, asks why (kept in the history and sent with the change) and calls
 * records.correct or records.delete; a participant's history lists every change, deleted records included, and the
 * participants deleted on this laptop stay findable with theirs.
 */
import { Alert, Button, Card, Checkbox, Group, Modal, Select, Stack, Table, Text, TextInput, Textarea, Title } from '@mantine/core';
import { zodResolver } from '@hookform/resolvers/zod';
import { useMemo, useState, type ReactNode } from 'react';
import { useForm } from 'react-hook-form';
import type { HistoryEntry, RecordKind, Requisition, Visit } from '../../../shared/contract.ts';
import { PANELS, specimenRequisitionInput, VISIT_CODES } from '../../../shared/domain.ts';
import { parseDecimal } from '../../../shared/numbers.ts';
import { checkRecordTime, typedInstant, type RecordTimeRefusal } from '../../../shared/record-times.ts';
import { correctionReasonSchema } from '../../../shared/specimens.ts';
import type { Formatters } from '../../../shared/i18n/format.ts';
import { useAction, useCall } from '../hooks.ts';
import { useFormat, useT, type MessageKey, type TFunction } from '../i18n.tsx';
import { CONFLICT_COLOR, modelLabel, Pager, ProblemAlert } from '../ui.tsx';
import { fieldLabel, isBookkeeping } from './Inspector.tsx';
import { dobAsTyped, isFormField, SubjectFields, subjectFormSchema, type SubjectFormIn, type SubjectFormOut } from './subject-form.tsx';

/** A field the backend named, without the call's "changes." prefix (the form's own name for it). */
const formField = (field: string | null): string | null => (field?.startsWith('changes.') ? field.slice('changes.'.length) : field);

/** A dialog for one correction or delete; `opened` by the caller. */
export function ChangeDialog({ title, opened, onClose, children }: { title: string; opened: boolean; onClose: () => void; children: ReactNode }) {
  const t = useT();
  return (
    <Modal opened={opened} onClose={onClose} title={title} size="lg" closeButtonProps={{ 'aria-label': t('common.close') }}>
      {opened && children}
    </Modal>
  );
}

/** Why the record is changed: required (at least 3 characters), as the backend checks it. */
function useReason(t: TFunction) {
  const [reason, setReason] = useState('');
  const [error, setError] = useState<string | null>(null);
  const check = (): string | null => {
    const r = correctionReasonSchema.safeParse(reason);
    setError(r.success ? null : t('entry.needReason'));
    return r.success ? r.data : null;
  };
  return { reason, setReason, error, setError, check };
}

function ReasonInput({ label, state, serverError }: { label: string; state: ReturnType<typeof useReason>; serverError: string | null }) {
  const t = useT();
  return (
    <Textarea label={label} description={t('corrections.reasonHint')} value={state.reason} onChange={(e) => state.setReason(e.currentTarget.value)}
      error={state.error ?? serverError ?? undefined} maxLength={200} data-testid="change-reason" />
  );
}

const pad = (n: number) => String(n).padStart(2, '0');
/** This computer's local date (year-month-day) and 24-hour time of an instant, as the fields show them. */
export function localParts(iso: string): { date: string; time: string } {
  const d = new Date(iso);
  return { date: `${d.getFullYear()}-${pad(d.getMonth() + 1)}-${pad(d.getDate())}`, time: `${pad(d.getHours())}:${pad(d.getMinutes())}` };
}

const TIME_REFUSAL = {
  'date-unreadable': 'corrections.dateUnreadable', 'time-unreadable': 'corrections.timeUnreadable',
  future: 'corrections.timeFuture', 'before-registration': 'corrections.timeBeforeRegistration', 'after-tubes': 'corrections.visitAfterTubes',
} as const satisfies Record<RecordTimeRefusal, MessageKey>;

/**
 * When a consent was given or a visit took place, typed as a date and a 24-hour time on this laptop's clock, with
 * the rule the backend applies (shared/record-times.ts). `check()` is the new ISO time, undefined when unchanged,
 * or null (with the sentence at its field) when refused. A visit passes its tubes' draw times (`tubesDrawn`).
 */
function useWhen(t: TFunction, f: Formatters, iso: string, registeredAt: string, tubesDrawn?: readonly string[]) {
  const start = localParts(iso);
  const [date, setDate] = useState(start.date);
  const [time, setTime] = useState(start.time);
  const [error, setError] = useState<{ field: 'date' | 'time'; message: string } | null>(null);
  const check = (): string | null | undefined => {
    if (date.trim() === start.date && time.trim() === start.time) {
      setError(null);
      return undefined;
    }
    const typed = typedInstant(date, time, '');
    const r = typed.ok ? checkRecordTime(typed.iso, { nowMs: Date.now(), registrationIso: registeredAt, timeZone: '', ...(tubesDrawn ? { tubesDrawn } : {}) }) : typed;
    if (!r.ok) {
      // A later day is the date's mistake; a later hour today, the time's.
      const onTime = r.reason === 'time-unreadable' || (r.reason === 'future' && date.trim() <= localParts(new Date().toISOString()).date);
      const params: Record<string, string | number> = r.reason === 'after-tubes' ? { n: r.tubes, day: f.date(r.firstDrawnIso) } : {};
      setError({ field: onTime ? 'time' : 'date', message: t(TIME_REFUSAL[r.reason], params) });
      return null;
    }
    setError(null);
    return typed.ok ? typed.iso : null;
  };
  return { date, setDate, time, setTime, error, check };
}

function WhenFields({ state, dateLabel, timeLabel, serverError }: { state: ReturnType<typeof useWhen>; dateLabel: string; timeLabel: string; serverError: string | null }) {
  const t = useT();
  return (
    <Group align="start" grow>
      <TextInput label={dateLabel} description={t('corrections.dateHint')} value={state.date} onChange={(e) => state.setDate(e.currentTarget.value)} autoComplete="off"
        error={state.error?.field === 'date' ? state.error.message : serverError ?? undefined} data-testid="change-date" />
      <TextInput label={timeLabel} description={t('corrections.timeHint')} value={state.time} onChange={(e) => state.setTime(e.currentTarget.value)} inputMode="numeric" autoComplete="off"
        error={state.error?.field === 'time' ? state.error.message : undefined} data-testid="change-time" />
    </Group>
  );
}

type SubjectDetail = { id: string; firstName: string; lastName: string; dob: string; identityNumber: string; phone: string | null; gender: 'M' | 'F' };

/** The participant's details, checked like registration, and why they are corrected. */
export function CorrectSubject({ subject, onDone }: { subject: SubjectDetail; onDone: () => void }) {
  const t = useT();
  const save = useAction('records.correct');
  const why = useReason(t);
  const schema = useMemo(() => subjectFormSchema(t), [t]);
  const form = useForm<SubjectFormIn, unknown, SubjectFormOut>({
    resolver: zodResolver(schema),
    defaultValues: { firstName: subject.firstName, lastName: subject.lastName, dob: dobAsTyped(subject.dob), identityNumber: subject.identityNumber, phone: subject.phone ?? '', gender: subject.gender },
  });
  const field = formField(save.field);
  const submit = form.handleSubmit(async (changes) => {
    const reason = why.check();
    if (reason === null) return;
    if (await save.run({ kind: 'subject', id: subject.id, reason, changes })) onDone();
  }, () => void why.check());
  return (
    <form onSubmit={(e) => void submit(e)} aria-label={t('corrections.subjectForm')} noValidate>
      <Stack>
        <SubjectFields form={form} serverField={field} serverError={save.error} />
        <ReasonInput label={t('corrections.reason')} state={why} serverError={field === 'reason' ? save.error : null} />
        {!isFormField(field) && field !== 'reason' && <ProblemAlert state={save} testId="change-problem" />}
        <Group><Button type="submit" loading={save.busy} data-testid="change-save">{t('corrections.save')}</Button></Group>
      </Stack>
    </form>
  );
}

/** Delete a record (and what depends on it, as `warning` says), with the reason. */
export function DeleteRecord({ kind, id, warning, onDone }: { kind: RecordKind; id: string; warning: string; onDone: (deleted: number) => void }) {
  const t = useT();
  const del = useAction('records.delete');
  const why = useReason(t);
  return (
    <form noValidate aria-label={t('corrections.deleteForm')} onSubmit={async (e) => {
      e.preventDefault();
      const reason = why.check();
      if (reason === null) return;
      const r = await del.run({ kind, id, reason });
      if (r) onDone(r.deleted);
    }}>
      <Stack>
        <Alert color={CONFLICT_COLOR} data-testid="delete-warning"><Text size="sm">{warning}</Text><Text size="sm" mt={4}>{t('corrections.deleteKept')}</Text></Alert>
        <ReasonInput label={t('corrections.deleteReason')} state={why} serverError={del.field === 'reason' ? del.error : null} />
        {del.field !== 'reason' && <ProblemAlert state={del} testId="change-problem" />}
        <Group><Button type="submit" color="red" loading={del.busy} data-testid="delete-confirm">{t('corrections.deleteConfirm')}</Button></Group>
      </Stack>
    </form>
  );
}

type ConsentRow = { id: string; version: string; consentDatetime: string; isLiterate: boolean; language: string };

/** A consent's version, language, literacy and when it was given, checked like entry. */
export function CorrectConsent({ consent, registeredAt, onDone }: { consent: ConsentRow; registeredAt: string; onDone: () => void }) {
  const t = useT();
  const save = useAction('records.correct');
  const why = useReason(t);
  const f = useFormat();
  const when = useWhen(t, f, consent.consentDatetime, registeredAt);
  const [version, setVersion] = useState(consent.version);
  const [language, setLanguage] = useState(consent.language);
  const [literate, setLiterate] = useState(consent.isLiterate);
  const field = formField(save.field);
  return (
    <form noValidate aria-label={t('corrections.consentForm')} onSubmit={async (e) => {
      e.preventDefault();
      const at = when.check();
      const reason = why.check();
      if (reason === null || at === null) return;
      const changes = { version: version.trim().replace(',', '.'), language: language.trim(), isLiterate: literate, ...(at ? { consentDatetime: at } : {}) };
      if (await save.run({ kind: 'consent', id: consent.id, reason, changes })) onDone();
    }}>
      <Stack>
        <Group align="end">
          <TextInput label={t('entry.consentVersion')} value={version} onChange={(e) => setVersion(e.currentTarget.value)} w={160} error={field === 'version' ? save.error : undefined} />
          <TextInput label={t('entry.consentLanguage')} value={language} onChange={(e) => setLanguage(e.currentTarget.value)} w={180} error={field === 'language' ? save.error : undefined} />
        </Group>
        <WhenFields state={when} dateLabel={t('corrections.consentDate')} timeLabel={t('corrections.consentTime')} serverError={field === 'consentDatetime' ? save.error : null} />
        <Checkbox label={t('entry.canRead')} checked={literate} onChange={(e) => setLiterate(e.currentTarget.checked)} />
        <ReasonInput label={t('corrections.reason')} state={why} serverError={field === 'reason' ? save.error : null} />
        {!['version', 'language', 'consentDatetime', 'reason'].includes(field ?? '') && <ProblemAlert state={save} testId="change-problem" />}
        <Group><Button type="submit" loading={save.busy} data-testid="change-save">{t('corrections.save')}</Button></Group>
      </Stack>
    </form>
  );
}

const VISIT_REASONS = ['scheduled', 'unscheduled', 'missed'] as const;
const VISIT_REASON_LABEL = { scheduled: 'entry.reasonScheduled', unscheduled: 'entry.reasonUnscheduled', missed: 'entry.reasonMissed' } as const satisfies Record<(typeof VISIT_REASONS)[number], MessageKey>;

/** A visit's code, reason (scheduled, unscheduled, missed) and when it took place. */
export function CorrectVisit({ visit, registeredAt, onDone }: { visit: Visit; registeredAt: string; onDone: () => void }) {
  const t = useT();
  const save = useAction('records.correct');
  const why = useReason(t);
  const f = useFormat();
  const when = useWhen(t, f, visit.visitDatetime, registeredAt, visit.requisitions.map((r) => r.drawnDatetime));
  const [code, setCode] = useState(visit.visitCode);
  const [reason, setReason] = useState(visit.reason as (typeof VISIT_REASONS)[number]);
  const field = formField(save.field);
  return (
    <form noValidate aria-label={t('corrections.visitForm')} onSubmit={async (e) => {
      e.preventDefault();
      const at = when.check();
      const why2 = why.check();
      if (why2 === null || at === null) return;
      const changes = { visitCode: code as (typeof VISIT_CODES)[number], reason, ...(at ? { visitDatetime: at } : {}) };
      if (await save.run({ kind: 'visit', id: visit.id, reason: why2, changes })) onDone();
    }}>
      <Stack>
        <Group align="end">
          <Select label={t('entry.visitLabel')} data={[...VISIT_CODES]} value={code} onChange={(v) => setCode(v ?? visit.visitCode)} allowDeselect={false} w={160} />
          <Select label={t('entry.visitReason')} data={VISIT_REASONS.map((r) => ({ value: r, label: t(VISIT_REASON_LABEL[r]) }))} value={reason} onChange={(v) => setReason((v ?? reason) as typeof reason)} allowDeselect={false} w={200} />
        </Group>
        <WhenFields state={when} dateLabel={t('corrections.visitDate')} timeLabel={t('corrections.visitTime')} serverError={field === 'visitDatetime' || save.code === 'VISIT_AFTER_TUBES' ? save.error : null} />
        <ReasonInput label={t('corrections.reason')} state={why} serverError={field === 'reason' ? save.error : null} />
        {field !== 'reason' && field !== 'visitDatetime' && save.code !== 'VISIT_AFTER_TUBES' && <ProblemAlert state={save} testId="change-problem" />}
        <Group><Button type="submit" loading={save.busy} data-testid="change-save">{t('corrections.save')}</Button></Group>
      </Stack>
    </form>
  );
}

/** A blood tube's test (and so its specimen: the wrong box was ticked) and how many tubes it holds. The label keeps its barcode. */
export function CorrectTube({ req, onDone }: { req: Requisition; onDone: () => void }) {
  const t = useT();
  const f = useFormat();
  const save = useAction('records.correct');
  const why = useReason(t);
  const panels = Object.keys(PANELS) as (keyof typeof PANELS)[];
  const [panel, setPanel] = useState<keyof typeof PANELS>((panels.find((p) => p === req.panel) ?? panels[0])!);
  const [count, setCount] = useState(String(req.itemCount));
  const [countError, setCountError] = useState<string | null>(null);
  const field = formField(save.field);
  return (
    <form noValidate aria-label={t('corrections.tubeForm')} onSubmit={async (e) => {
      e.preventDefault();
      // The entry schema's own rule (a whole number, 1 to 20) on the number as typed.
      const n = parseDecimal(count, { maxDecimals: 0 });
      const itemCount = n.ok ? specimenRequisitionInput.shape.itemCount.safeParse(n.value) : null;
      setCountError(itemCount?.success ? null : t('corrections.tubeCountInvalid'));
      const reason = why.check();
      if (reason === null || !itemCount?.success) return;
      if (await save.run({ kind: 'requisition', id: req.id, reason, changes: { panel, specimenType: PANELS[panel][0], itemCount: itemCount.data } })) onDone();
    }}>
      <Stack>
        <Select label={t('entry.colPanel')} data={panels.map((p) => ({ value: p, label: t('entry.tubeOption', { panel: f.value('panel', p), specimen: f.value('specimenType', PANELS[p][0]) }) }))} value={panel}
          onChange={(v) => setPanel((v ?? panel) as keyof typeof PANELS)} allowDeselect={false} error={field === 'specimenType' || field === 'panel' ? save.error : undefined} />
        <TextInput label={t('corrections.tubeCount')} description={t('corrections.tubeCountHint')} value={count} onChange={(e) => setCount(e.currentTarget.value)} inputMode="numeric" autoComplete="off" w={240}
          error={countError ?? (field === 'itemCount' ? save.error : undefined)} data-testid="change-count" />
        <ReasonInput label={t('corrections.reason')} state={why} serverError={field === 'reason' ? save.error : null} />
        {!['reason', 'panel', 'specimenType', 'itemCount'].includes(field ?? '') && <ProblemAlert state={save} testId="change-problem" />}
        <Group><Button type="submit" loading={save.busy} data-testid="change-save">{t('corrections.save')}</Button></Group>
      </Stack>
    </form>
  );
}

/** "Correct" and "Delete" for one record, each naming it for a screen reader. */
export function RecordActions({ what, onCorrect, onDelete }: { what: string; onCorrect?: () => void; onDelete: () => void }) {
  const t = useT();
  return (
    <Group gap="xs" wrap="nowrap">
      {onCorrect && <Button size="xs" variant="light" aria-label={t('corrections.correctFor', { what })} onClick={onCorrect} data-testid="record-correct">{t('corrections.correct')}</Button>}
      <Button size="xs" variant="subtle" color="red" aria-label={t('corrections.deleteFor', { what })} onClick={onDelete} data-testid="record-delete">{t('corrections.delete')}</Button>
    </Group>
  );
}

const ACTION_LABEL = { I: 'corrections.actionI', U: 'corrections.actionU', D: 'corrections.actionD' } as const satisfies Record<HistoryEntry['action'], MessageKey>;

/** What a history row is about: "participant S01-…", "consent 1.0", "visit 1000", "blood tube …". */
function recordName(t: TFunction, e: HistoryEntry): string {
  return e.what ? `${modelLabel(t, e.txName)} ${e.what}` : modelLabel(t, e.txName);
}

function valueText(t: TFunction, f: Formatters, field: string, v: unknown): string {
  if (typeof v === 'boolean') return v ? t('common.yes') : t('common.no');
  return f.value(field, v) || t('inspector.empty');
}

/** Every change to the participant and to what was recorded for them, newest first, deleted records included (remount to reload). */
export function SubjectHistory({ subjectId }: { subjectId: string }) {
  const t = useT();
  const f = useFormat();
  const q = useCall('records.history', { subjectId });
  const entries = [...(q.data?.entries ?? [])].reverse();
  const [page, setPage] = useState(0);
  const pageSize = 20;
  return (
    <Card withBorder data-testid="subject-history">
      <Title order={3} mb="xs">{t('corrections.historyTitle')}</Title>
      <ProblemAlert state={q} />
      <Table striped aria-label={t('corrections.historyTitle')}>
        <Table.Thead><Table.Tr><Table.Th>{t('corrections.colWhen')}</Table.Th><Table.Th>{t('corrections.colRecord')}</Table.Th><Table.Th>{t('corrections.colChange')}</Table.Th><Table.Th>{t('corrections.colBy')}</Table.Th><Table.Th>{t('corrections.colReason')}</Table.Th></Table.Tr></Table.Thead>
        <Table.Tbody>
          {entries.slice(page * pageSize, (page + 1) * pageSize).map((e, i) => (
            <Table.Tr key={`${e.recordId}-${e.revision}-${e.action}-${i}`} data-testid="history-row" data-action={e.action}>
              <Table.Td>{f.dateTime(e.at)}</Table.Td>
              <Table.Td>{recordName(t, e)}</Table.Td>
              <Table.Td>
                <Text size="sm" fw={e.action === 'I' ? undefined : 600}>{t(ACTION_LABEL[e.action])}</Text>
                {e.changes && Object.entries(e.changes).filter(([k]) => !isBookkeeping(k)).map(([k, [a, b]]) => (
                  <Text key={k} size="xs" data-testid="history-change">{t('corrections.changeLine', { field: fieldLabel(t, k), before: valueText(t, f, k, a), after: valueText(t, f, k, b) })}</Text>
                ))}
              </Table.Td>
              <Table.Td>{e.user}</Table.Td>
              <Table.Td data-testid="history-reason">{e.reason ?? ''}</Table.Td>
            </Table.Tr>
          ))}
        </Table.Tbody>
      </Table>
      <Pager total={entries.length} page={page} pageSize={pageSize} onChange={setPage} testId="history-pager" />
    </Card>
  );
}

/** Participants deleted on this laptop, newest first, each with its history. */
export function DeletedSubjects() {
  const t = useT();
  const f = useFormat();
  const [page, setPage] = useState(0);
  const pageSize = 10;
  const q = useCall('subjects.deleted', { page, pageSize });
  const [open, setOpen] = useState<{ id: string; name: string } | null>(null);
  const total = q.data?.total ?? 0;
  if (total === 0 && page === 0) return null;
  return (
    <Card withBorder data-testid="deleted-subjects">
      <Title order={3} mb="xs">{t('corrections.deletedTitle')}</Title>
      <ProblemAlert state={q} />
      <Table striped>
        <Table.Thead><Table.Tr><Table.Th>{t('entry.colParticipant')}</Table.Th><Table.Th>{t('entry.colName')}</Table.Th><Table.Th>{t('corrections.colDeleted')}</Table.Th><Table.Th>{t('corrections.colBy')}</Table.Th><Table.Th>{t('corrections.colReason')}</Table.Th><Table.Th /></Table.Tr></Table.Thead>
        <Table.Tbody>
          {(q.data?.rows ?? []).map((s) => (
            <Table.Tr key={s.id} data-testid="deleted-row">
              <Table.Td>{s.subjectIdentifier}</Table.Td><Table.Td>{[s.firstName, s.lastName].filter(Boolean).join(' ')}</Table.Td>
              <Table.Td>{f.dateTime(s.deletedAt)}</Table.Td><Table.Td>{s.deletedBy}</Table.Td><Table.Td>{s.reason ?? ''}</Table.Td>
              <Table.Td><Button size="xs" variant="light" aria-label={t('corrections.historyOf', { subject: s.subjectIdentifier })} onClick={() => setOpen({ id: s.id, name: s.subjectIdentifier })} data-testid="deleted-history">{t('corrections.history')}</Button></Table.Td>
            </Table.Tr>
          ))}
        </Table.Tbody>
      </Table>
      <Pager total={total} page={page} pageSize={pageSize} onChange={setPage} testId="deleted-pager" />
      <ChangeDialog title={open ? t('corrections.historyOf', { subject: open.name }) : ''} opened={open !== null} onClose={() => setOpen(null)}>
        {open && <SubjectHistory subjectId={open.id} />}
      </ChangeDialog>
    </Card>
  );
}
