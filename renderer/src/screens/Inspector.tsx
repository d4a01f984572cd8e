/**
 * The transaction inspector (site, central, middleman): one received change with its envelope, where it has been,
 * the record's history and, for roles allowed to decrypt, its content. Opened from a session's changes, a grouped
 * reason, or by id.
 */
import { Alert, Badge, Button, Card, Checkbox, Group, List, Stack, Table, Text, Textarea, Timeline, Title } from '@mantine/core';
import { useState } from 'react';
import { readConflictReason } from '../../../shared/conflict-reason.ts';
import type { ConflictRow, InspectedTx } from '../../../shared/contract.ts';
import { useAction, useApp, useCall } from '../hooks.ts';
import { useFormat, useT, type MessageKey, type TFunction } from '../i18n.tsx';
import { CONFLICT_COLOR, modelLabel, ProblemAlert, WAIT_COLOR, When, OK_COLOR } from '../ui.tsx';

export const TX_STATE = {
  consumed: 'batches.stateConsumed', pending: 'batches.statePending', deferred: 'batches.stateDeferred', blocked: 'batches.stateBlocked',
  error: 'batches.stateError', conflict: 'batches.stateConflict', ignored: 'batches.stateIgnored', 'set-aside': 'batches.stateSetAside',
} as const satisfies Record<InspectedTx['state'], MessageKey>;

/** Badge colours for a change's state; the green is dark enough for white text on a striped row (WCAG AA). */
export const stateColor = (s: InspectedTx['state']): string => (s === 'consumed' ? OK_COLOR : s === 'error' ? 'red' : s === 'conflict' ? CONFLICT_COLOR : s === 'ignored' || s === 'set-aside' ? 'gray' : WAIT_COLOR);

const CONFLICT_SENTENCE = {
  'update-changed': 'batches.conflictUpdateChanged', 'update-deleted': 'batches.conflictUpdateDeleted', 'delete-changed': 'batches.conflictDeleteChanged',
  exists: 'batches.conflictExists', 'natural-key': 'batches.conflictNaturalKey',
} as const satisfies Record<ConflictRow['kind'], MessageKey>;

/** A conflict in the users' words: what happened to which kind of record (the stored reason, naming the model, stays the details line). */
function conflictSentence(t: TFunction, reason: string | null): string {
  const c = readConflictReason(reason);
  return c ? t(CONFLICT_SENTENCE[c.kind], { model: modelLabel(t, c.txName), base: c.base ?? '?', here: c.here ?? '?' }) : t('batches.reasonConflict');
}

/** A change's reason in plain words: the sentence for its error code, or for its state. */
export function plainReason(t: TFunction, r: { state: InspectedTx['state']; code: InspectedTx['code']; reason: string | null }): string | null {
  if (r.code) return t(`errors.${r.code}` as MessageKey);
  switch (r.state) {
    case 'blocked': return t('batches.reasonBlocked');
    case 'deferred': return t('batches.reasonDeferred');
    case 'conflict': return conflictSentence(t, r.reason);
    case 'error': return t('batches.reasonOther');
    case 'set-aside': return r.reason; // the data manager's own words
    case 'consumed': case 'pending': case 'ignored': return null;
  }
}

function hopText(t: TFunction, h: InspectedTx['hops'][number]): string {
  switch (h.step) {
    case 'made': return t('inspector.hopMade', { device: h.device ?? '' });
    case 'received': return h.detail && h.detail.endsWith('.jsonl.gz') ? t('inspector.hopReceivedFile', { file: h.detail }) : t('inspector.hopReceived', { device: h.device ?? t('common.unknown') });
    case 'applied': return t('inspector.hopApplied');
    case 'failed': return t('inspector.hopFailed');
    case 'setAside': return t('inspector.hopSetAside');
    case 'forwarded': return t('inspector.hopForwarded');
    case 'exported': return t('inspector.hopExported', { file: h.detail ?? '' });
    case 'sent': return t('inspector.hopSent');
    case 'atCentral': return t('inspector.hopAtCentral');
  }
}

/** Columns every record carries (who and when are in the row itself). */
const BOOKKEEPING = new Set(['id', 'created', 'modified', 'user_created', 'user_modified', 'hostname_created', 'hostname_modified', 'device_id', 'revision']);

/** A field's name in the users' words ("first_name", "firstName" → "First name"): inspector.field.*, then the entry screens' labels. */
export function fieldLabel(t: TFunction, key: string): string {
  const camel = key.replace(/_([a-z])/g, (_, c: string) => c.toUpperCase());
  for (const k of [`inspector.field.${camel}`, `entry.${camel}`] as MessageKey[]) {
    const v = t(k);
    if (v !== k) return v;
  }
  return key;
}
export const isBookkeeping = (k: string) => BOOKKEEPING.has(k) || BOOKKEEPING.has(k.replace(/[A-Z]/g, (c) => `_${c.toLowerCase()}`));

export const show = (v: unknown): string => (v === null || v === undefined || v === '' ? '' : typeof v === 'object' ? JSON.stringify(v) : String(v as string | number | boolean));

export function Inspector({ id }: { id: string }) {
  const t = useT();
  const f = useFormat();
  const { info } = useApp();
  const q = useCall('transactions.inspect', { id });
  const tx = q.data;
  // How many the data manager's decision set aside: shown after the card goes (the change is no longer failed).
  const [setAsideCount, setSetAsideCount] = useState<number | null>(null);
  if (!tx) return <Stack><ProblemAlert state={q} testId="inspector-error" />{q.loading && <Text>{t('common.loading')}</Text>}</Stack>;
  const e = tx.envelope;
  const reason = plainReason(t, tx);
  const record = (tx.content?.record ?? null) as Record<string, unknown> | null;
  /** Fields a middleman's carrier key set cannot read: "protected". */
  const hidden = Array.isArray(tx.content?.protected) ? (tx.content.protected as string[]) : [];
  return (
    <Stack data-testid="inspector">
      <Card withBorder>
        <Title order={3} size="h4" mb="xs">{t('inspector.envelopeTitle')}</Title>
        <Table data-testid="inspector-envelope" variant="vertical" withTableBorder>
          <Table.Tbody>
            <Table.Tr><Table.Th w={200}>{t('inspector.madeOn')}</Table.Th><Table.Td data-testid="inspector-producer">{e.producer}</Table.Td></Table.Tr>
            <Table.Tr><Table.Th>{t('inspector.no')}</Table.Th><Table.Td>{e.producerSeq}</Table.Td></Table.Tr>
            <Table.Tr><Table.Th>{t('inspector.kind')}</Table.Th><Table.Td data-testid="inspector-kind">{modelLabel(t, e.txName)}</Table.Td></Table.Tr>
            <Table.Tr><Table.Th>{t('inspector.change')}</Table.Th><Table.Td>{t(`actions.${e.action}`)}</Table.Td></Table.Tr>
            <Table.Tr><Table.Th>{t('inspector.madeAt')}</Table.Th><Table.Td>{f.dateTime(e.madeAt)}</Table.Td></Table.Tr>
            <Table.Tr><Table.Th>{t('inspector.state')}</Table.Th><Table.Td><Badge color={stateColor(tx.state)} data-testid="inspector-state">{t(TX_STATE[tx.state])}</Badge>{reason && <Text size="sm" mt={4}>{reason}</Text>}{tx.reason && tx.reason !== reason && <Text size="xs" c="dimmed" data-details>{t('common.details', { details: tx.reason })}</Text>}</Table.Td></Table.Tr>
            <Table.Tr><Table.Th>{t('inspector.signed')}</Table.Th><Table.Td>{e.signed ? t('inspector.signedYes') : t('inspector.signedNo')}</Table.Td></Table.Tr>
            <Table.Tr><Table.Th>{t('inspector.record')}</Table.Th><Table.Td><Text size="sm" ff="monospace">{e.recordId}</Text></Table.Td></Table.Tr>
            <Table.Tr><Table.Th>{t('inspector.key')}</Table.Th><Table.Td>{e.keyId}</Table.Td></Table.Tr>
            <Table.Tr><Table.Th>{t('inspector.formatVersion')}</Table.Th><Table.Td>{e.schemaVersion}</Table.Td></Table.Tr>
            <Table.Tr><Table.Th>{t('inspector.id')}</Table.Th><Table.Td><Text size="sm" ff="monospace" data-testid="inspector-id">{e.id}</Text></Table.Td></Table.Tr>
          </Table.Tbody>
        </Table>
      </Card>
      <Card withBorder>
        <Title order={3} size="h4" mb="xs">{t('inspector.hopsTitle')}</Title>
        <Timeline active={tx.hops.length - 1} bulletSize={14} lineWidth={2} data-testid="inspector-hops">
          {tx.hops.map((h, i) => (
            <Timeline.Item key={i} color={h.step === 'failed' ? 'red' : undefined} title={hopText(t, h)} data-testid="inspector-hop">
              <Text size="sm" c="dimmed">{h.at ? <When iso={h.at} /> : t('inspector.timeUnknown')}</Text>
            </Timeline.Item>
          ))}
        </Timeline>
      </Card>
      <Card withBorder>
        <Title order={3} size="h4" mb="xs">{t('inspector.historyTitle')}</Title>
        {tx.history.length === 0 ? <Text c="dimmed">{t('inspector.historyNone')}</Text> : (
          <Table striped data-testid="inspector-history">
            <Table.Thead><Table.Tr><Table.Th>{t('inspector.colWhen')}</Table.Th><Table.Th>{t('inspector.colChange')}</Table.Th><Table.Th>{t('inspector.colWho')}</Table.Th><Table.Th>{t('inspector.colDevice')}</Table.Th><Table.Th>{t('inspector.colRevision')}</Table.Th><Table.Th>{t('inspector.colWhy')}</Table.Th><Table.Th>{t('inspector.colFields')}</Table.Th></Table.Tr></Table.Thead>
            <Table.Tbody>
              {tx.history.map((h, i) => (
                <Table.Tr key={i} data-testid="inspector-history-row">
                  <Table.Td>{f.dateTime(h.at)}</Table.Td>
                  <Table.Td>{t(`actions.${h.action}`)} {h.thisChange && <Badge size="sm" variant="light">{t('inspector.thisChange')}</Badge>}</Table.Td>
                  <Table.Td>{h.user}</Table.Td>
                  <Table.Td>{h.device} ({h.host})</Table.Td>
                  <Table.Td>{h.revision}</Table.Td>
                  <Table.Td data-testid="inspector-history-reason">{h.reason ?? ''}</Table.Td>
                  <Table.Td>{h.changes
                    ? <Stack gap={0}>{Object.entries(h.changes).filter(([k]) => !isBookkeeping(k)).map(([k, [a, b]]) => <Text key={k} size="xs">{fieldLabel(t, k)}: {tx.protectedFields.includes(k) ? t('pending.protected') : `${f.value(k, a) || t('inspector.empty')} → ${f.value(k, b) || t('inspector.empty')}`}</Text>)}</Stack>
                    : t('inspector.fieldsChanged', { n: h.fields })}</Table.Td>
                </Table.Tr>
              ))}
            </Table.Tbody>
          </Table>
        )}
      </Card>
      <Card withBorder>
        <Title order={3} size="h4" mb="xs">{t('inspector.contentTitle')}</Title>
        {tx.contentHidden && <Alert color="gray" data-testid="inspector-content-hidden">{t('inspector.contentHidden')}</Alert>}
        {tx.contentError && <Alert color={CONFLICT_COLOR} data-testid="inspector-content-error"><Text>{t('inspector.contentError')} {t(`errors.${tx.contentError}` as MessageKey)}</Text></Alert>}
        {record && (
          <Table data-testid="inspector-content" variant="vertical" withTableBorder>
            <Table.Tbody>
              {Object.entries(record).filter(([k]) => !isBookkeeping(k)).map(([k, v]) => <Table.Tr key={k}><Table.Th w={200}>{fieldLabel(t, k)}</Table.Th><Table.Td>{hidden.includes(k) ? t('pending.protected') : f.value(k, v) || t('inspector.empty')}</Table.Td></Table.Tr>)}
            </Table.Tbody>
          </Table>
        )}
        {tx.content && !record && <Text size="sm">{show(tx.content)}</Text>}
      </Card>
      {(tx.state === 'error' || tx.state === 'blocked') && info.permissions.includes('resolve') && (info.deviceRole === 'site' || info.deviceRole === 'central') && (
        <SetAside id={e.id} onDone={(n) => { setSetAsideCount(n); void q.reload(); }} />
      )}
      {setAsideCount !== null && <Alert color={OK_COLOR} data-testid="set-aside-done">{t('inspector.setAsideDone', { n: setAsideCount })}</Alert>}
    </Stack>
  );
}

/**
 * A data manager sets aside a change that can never apply (core/set-aside.ts): with a reason, and by default with the
 * changes that wait for it, listed here first. Nothing is deleted; the decision is recorded and goes on to central.
 */
function SetAside({ id, onDone }: { id: string; onDone: (count: number) => void }) {
  const t = useT();
  const plan = useCall('transactions.setAsidePlan', { id });
  const act = useAction('transactions.setAside');
  const [reason, setReason] = useState('');
  const [withDependants, setWithDependants] = useState(true);
  const [withAlike, setWithAlike] = useState(false);
  const dependants = plan.data?.dependants ?? [];
  const alike = plan.data?.alike ?? [];
  const submit = async () => {
    const r = await act.run({ id, reason, withDependants, withAlike });
    if (r) onDone(r.setAside);
  };
  return (
    <Card withBorder data-testid="set-aside">
      <Title order={3} size="h4" mb="xs">{t('inspector.setAsideTitle')}</Title>
      <Stack>
        <Text size="sm">{t('inspector.setAsideExplain')}</Text>
        {dependants.length > 0 && (
          <>
            <Text size="sm" fw={500}>{t('inspector.setAsideWaiting', { n: dependants.length })}</Text>
            <List size="sm" data-testid="set-aside-dependants">
              {dependants.slice(0, 20).map((d) => <List.Item key={d.id}>{t('inspector.setAsideItem', { kind: modelLabel(t, d.txName), device: d.producer, no: d.producerSeq })}</List.Item>)}
            </List>
            <Checkbox label={t('inspector.setAsideWithDependants', { n: dependants.length })} checked={withDependants} onChange={(ev) => setWithDependants(ev.currentTarget.checked)} data-testid="set-aside-with-dependants" />
          </>
        )}
        {alike.length > 0 && (
          <Checkbox label={t('inspector.setAsideAlike', { n: alike.length, device: plan.data!.root.producer })} checked={withAlike} onChange={(ev) => setWithAlike(ev.currentTarget.checked)} data-testid="set-aside-alike" />
        )}
        <Textarea label={t('inspector.setAsideReason')} description={t('inspector.setAsideReasonHint')} value={reason} onChange={(ev) => setReason(ev.currentTarget.value)}
          minRows={2} maxLength={500} error={act.field === 'reason' ? act.error : undefined} data-testid="set-aside-reason" />
        {act.field !== 'reason' && <ProblemAlert state={act} />}
        <Group><Button color={CONFLICT_COLOR} onClick={() => void submit()} loading={act.busy} disabled={reason.trim().length < 3} data-testid="set-aside-submit">{t('inspector.setAsideButton')}</Button></Group>
      </Stack>
    </Card>
  );
}
