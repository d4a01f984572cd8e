/**
 * A visit's blood tubes on the field laptop: each with the time since draw, "Correct draw time" (an audited change
 * through the write path, with a reason) and "Reprint" (that one label, in the label stock's print layout), and
 * the draw-time corrections from the record's history under it.
 */
import { Button, Group, Modal, Stack, Table, Text, TextInput, Textarea } from '@mantine/core';
import { useCallback, useState } from 'react';
import type { Requisition, Visit } from '../../../shared/contract.ts';
import { parseClockTime, parseIsoDate } from '../../../shared/local-time.ts';
import { checkDrawTime, correctionReasonSchema, earliestDrawMs, type DrawTimeRefusal } from '../../../shared/specimens.ts';
import { useAction, useCall } from '../hooks.ts';
import { useFormat, useT, type MessageKey } from '../i18n.tsx';
import { ProblemAlert } from '../ui.tsx';
import { LabelSheet, type PrintJob } from './Labels.tsx';
import { SinceDraw, useNow } from './since-draw.tsx';
import { ChangeDialog, CorrectTube, DeleteRecord, localParts, RecordActions } from './Corrections.tsx';


const REFUSAL: Record<DrawTimeRefusal, MessageKey> = { future: 'specimens.timeFuture', 'before-visit-day': 'specimens.timeTooEarly', unchanged: 'specimens.timeUnchanged' };

export function RequisitionList({ visit, subject, registeredAt, onChange }: { visit: Visit; subject: string; registeredAt: string; onChange: () => void }) {
  const t = useT();
  const f = useFormat();
  const now = useNow();
  const settings = useCall('specimens.settings', {});
  const limits = settings.data?.stabilityMinutes ?? {};
  // Rows as the backend last returned them: a correction replaces its row without reloading the participant.
  const [rows, setRows] = useState<Requisition[]>(visit.requisitions);
  const [seen, setSeen] = useState(visit.requisitions);
  if (seen !== visit.requisitions) {
    setSeen(visit.requisitions);
    setRows(visit.requisitions);
  }
  const [correcting, setCorrecting] = useState<Requisition | null>(null);
  const [changing, setChanging] = useState<{ r: Requisition; what: 'test' | 'delete' } | null>(null);
  const closeChange = () => setChanging(null);
  const [job, setJob] = useState<PrintJob>(null);
  const onJob = useCallback((j: PrintJob) => setJob(j), []);
  if (rows.length === 0) return null;
  return (
    <>
      <Table data-testid="requisitions">
        <Table.Thead><Table.Tr><Table.Th>{t('entry.colTube')}</Table.Th><Table.Th>{t('entry.colPanel')}</Table.Th><Table.Th>{t('entry.colSpecimen')}</Table.Th><Table.Th>{t('entry.colCount')}</Table.Th><Table.Th>{t('entry.colDrawn')}</Table.Th><Table.Th>{t('specimens.colSinceDraw')}</Table.Th><Table.Th>{t('specimens.colActions')}</Table.Th></Table.Tr></Table.Thead>
        <Table.Tbody>{rows.map((r) => (
          <Table.Tr key={r.id} data-testid="requisition-row" data-barcode={r.requisitionIdentifier}>
            <Table.Td data-testid="requisition-id">{r.requisitionIdentifier}</Table.Td>
            <Table.Td>{f.value('panel', r.panel)}</Table.Td>
            <Table.Td>{f.value('specimenType', r.specimenType)}</Table.Td>
            <Table.Td data-testid="requisition-count">{f.number(r.itemCount)}</Table.Td>
            <Table.Td>
              <span data-testid="requisition-drawn">{f.dateTime(r.drawnDatetime)}</span>
              {r.drawCorrections.map((c) => (
                <Text key={c.at} size="xs" data-testid="draw-correction">{t('specimens.correctedLine', { from: f.dateTime(c.from), to: f.dateTime(c.to), user: c.user, when: f.dateTime(c.at), reason: c.reason ?? '—' })}</Text>
              ))}
            </Table.Td>
            <Table.Td><SinceDraw drawn={r.drawnDatetime} now={now} limit={limits[r.panel] ?? null} /></Table.Td>
            <Table.Td>
              <Group gap="xs" wrap="nowrap">
                <Button size="xs" variant="light" aria-label={t('specimens.correctFor', { tube: r.requisitionIdentifier })} data-testid="correct-open" onClick={() => setCorrecting(r)}>{t('specimens.correct')}</Button>
                <Button size="xs" variant="outline" aria-label={t('specimens.reprintFor', { tube: r.requisitionIdentifier })} data-testid="reprint" onClick={() => setJob({ ids: [r.requisitionIdentifier], n: Date.now() })}>{t('specimens.reprint')}</Button>
                <RecordActions what={t('corrections.tubeWhat', { tube: r.requisitionIdentifier })} onCorrect={() => setChanging({ r, what: 'test' })} onDelete={() => setChanging({ r, what: 'delete' })} />
              </Group>
            </Table.Td>
          </Table.Tr>
        ))}</Table.Tbody>
      </Table>
      <LabelSheet requisitions={rows} subject={subject} job={job} onJob={onJob} />
      <Modal opened={correcting !== null} onClose={() => setCorrecting(null)} closeButtonProps={{ 'aria-label': t('common.close') }} title={correcting ? t('specimens.correctTitle', { tube: correcting.requisitionIdentifier }) : ''}>
        {correcting && (
          <CorrectDrawTime req={correcting} earliestMs={earliestDrawMs(visit.visitDatetime, registeredAt, '')}
            onDone={(updated) => {
              setRows((rs) => rs.map((x) => (x.id === updated.id ? updated : x)));
              setCorrecting(null);
            }} />
        )}
      </Modal>
      <ChangeDialog title={changing ? t(changing.what === 'test' ? 'corrections.correctTubeTitle' : 'corrections.deleteTubeTitle', { tube: changing.r.requisitionIdentifier }) : ''} opened={changing !== null} onClose={closeChange}>
        {changing?.what === 'test' && <CorrectTube req={changing.r} onDone={() => { closeChange(); onChange(); }} />}
        {changing?.what === 'delete' && <DeleteRecord kind="requisition" id={changing.r.id} warning={t('corrections.deleteTubeWarning')} onDone={() => { closeChange(); onChange(); }} />}
      </ChangeDialog>
    </>
  );
}

/** Date and 24-hour time as typed, checked with the same rule the backend applies (against this laptop's clock), and a reason. */
function CorrectDrawTime({ req, earliestMs, onDone }: { req: Requisition; earliestMs: number; onDone: (r: Requisition) => void }) {
  const t = useT();
  const f = useFormat();
  const save = useAction('requisitions.correctDrawTime');
  const start = localParts(req.drawnDatetime);
  const [date, setDate] = useState(start.date);
  const [time, setTime] = useState(start.time);
  const [reason, setReason] = useState('');
  const [errors, setErrors] = useState<{ date?: string; time?: string; reason?: string }>({});
  const submit = async () => {
    const day = parseIsoDate(date);
    const clock = parseClockTime(time);
    const next: typeof errors = {};
    if (!day) next.date = t('specimens.dateUnreadable');
    if (!clock) next.time = t('specimens.timeUnreadable');
    if (!correctionReasonSchema.safeParse(reason).success) next.reason = t('entry.needReason');
    let iso = '';
    if (day && clock) {
      const [y, mo, d] = day.split('-').map(Number) as [number, number, number];
      iso = new Date(y, mo - 1, d, clock.hour, clock.minute).toISOString();
      const check = checkDrawTime(iso, { nowMs: Date.now(), earliestMs, currentIso: req.drawnDatetime });
      if (!check.ok) next[check.reason === 'before-visit-day' ? 'date' : 'time'] = t(REFUSAL[check.reason]);
    }
    setErrors(next);
    if (Object.keys(next).length > 0) return;
    const r = await save.run({ id: req.id, drawnDatetime: iso, reason: reason.trim() });
    if (r) onDone(r);
  };
  return (
    <form aria-label={t('specimens.correctTitle', { tube: req.requisitionIdentifier })} noValidate onSubmit={(e) => { e.preventDefault(); void submit(); }}>
      <Stack>
        <Text size="sm" data-testid="correct-recorded">{t('specimens.correctRecorded', { when: f.dateTime(req.drawnDatetime) })}</Text>
        <Group align="start" grow>
          <TextInput label={t('specimens.correctDate')} description={t('specimens.correctDateHint')} value={date} onChange={(e) => setDate(e.currentTarget.value)} error={errors.date} autoComplete="off" data-testid="correct-date" />
          <TextInput label={t('specimens.correctTime')} description={t('specimens.correctTimeHint')} value={time} onChange={(e) => setTime(e.currentTarget.value)} error={errors.time} inputMode="numeric" autoComplete="off" data-autofocus data-testid="correct-time" />
        </Group>
        <Textarea label={t('specimens.correctReason')} description={t('specimens.correctReasonHint')} value={reason} onChange={(e) => setReason(e.currentTarget.value)} error={errors.reason ?? (save.field === 'reason' ? save.error : undefined)} maxLength={200} data-testid="correct-reason" />
        {save.field !== 'reason' && <ProblemAlert state={save} testId="correct-problem" />}
        <Group><Button type="submit" loading={save.busy} data-testid="correct-save">{t('specimens.correctSave')}</Button></Group>
      </Stack>
    </form>
  );
}
