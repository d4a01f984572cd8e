/**
 * Consumed batches (site, central): one row per hand-over (a push session, a driver's pull, a file), newest first,
 * paged; a "with problems" filter and a device filter; identical reasons as one line with who can act; each row
 * opens to its parts (requests) and changes; any change opens in the inspector (also by id).
 */
import { Alert, Badge, Button, Card, Group, Modal, Progress, SegmentedControl, Select, Stack, Table, Text, TextInput, Title } from '@mantine/core';
import { useState } from 'react';
import type { Permission, ReasonGroup, SessionRow } from '../../../shared/contract.ts';
import { adviceFor } from '../../../shared/advice.ts';
import { percent, useAction, useApp, useCall, useEvents, useProgress } from '../hooks.ts';
import { useT, type MessageKey, type TFunction } from '../i18n.tsx';
import { CONFLICT_COLOR, FileWaits, modelLabel, Pager, ProblemAlert, ProducerWaits, useProgressText, WAIT_COLOR, When, OK_COLOR } from '../ui.tsx';
import { Inspector, plainReason, stateColor, TX_STATE } from './Inspector.tsx';

const KIND = { push: 'batches.kindPush', pull: 'batches.kindPull', file: 'batches.kindFile', copy: 'batches.kindCopy' } as const satisfies Record<SessionRow['kind'], MessageKey>;
const CHANNEL = { rest: 'batches.channelRest', middleman: 'batches.channelMiddleman', file: 'batches.channelFile', copy: 'batches.channelCopy' } as const satisfies Record<SessionRow['channel'], MessageKey>;
const GROUP = { error: 'batches.groupError', conflict: 'batches.groupConflict', blocked: 'batches.groupBlocked', deferred: 'batches.groupDeferred' } as const satisfies Record<ReasonGroup['kind'], MessageKey>;
const PAGE = 20;
const TX_PAGE = 25;

const firstSentence = (s: string): string => /^.*?[.!?](?=\s|$)/.exec(s)?.[0] ?? s;
const waiting = (b: { pending: number; deferred: number; blocked: number }) => b.pending + b.deferred + b.blocked;
const failed = (b: { error: number; conflicts: number }) => b.error + b.conflicts;

export function BatchesScreen() {
  const { info } = useApp();
  const t = useT();
  const progressText = useProgressText();
  const [page, setPage] = useState(0);
  const [problems, setProblems] = useState(false);
  const [device, setDevice] = useState<string | null>(null);
  const [expanded, setExpanded] = useState<string | null>(null);
  const [inspect, setInspect] = useState<string | null>(null);
  const [idText, setIdText] = useState('');
  const list = useCall('batches.list', { page, pageSize: PAGE, problems, ...(device ? { device } : {}) }, { pollMs: 5000 });
  const reasons = useCall('batches.reasons', {}, { pollMs: 5000 });
  const retry = useAction('batches.retry');
  const importFiles = useAction('files.import');
  const [importProgress, resetImport] = useProgress('files.import');
  const canImport = info.permissions.includes('transfer');
  const canRetry = info.permissions.includes('retry');
  const reloadAll = () => {
    void list.reload();
    void reasons.reload();
  };
  useEvents((e) => {
    if (e.type === 'changed') reloadAll();
  });
  const d = list.data;
  const errors = d?.errors ?? 0;
  const doRetry = async () => {
    await retry.run({});
    reloadAll();
  };
  const filter = (next: { problems?: boolean; device?: string | null }) => {
    if (next.problems !== undefined) setProblems(next.problems);
    if (next.device !== undefined) setDevice(next.device);
    setPage(0);
    setExpanded(null);
  };
  return (
    <Stack>
      <Title order={2}>{t('batches.title')}</Title>
      <Text>{t('batches.intro')}</Text>
      <ProblemAlert state={list} />
      <Group>
        <Text data-testid="batches-errors">{t('batches.errorsCount', { n: errors })}</Text>
        {canRetry && <Button onClick={() => void doRetry()} loading={retry.busy} disabled={errors === 0 && !d?.consumerError} data-testid="retry-all">{t('batches.retry')}</Button>}
      </Group>
      {canImport && (
        <Card withBorder>
          <Group>
            <Button variant="outline" loading={importFiles.busy} data-testid="import-files" onClick={async () => { resetImport(); await importFiles.run({}); reloadAll(); }}>{t('batches.importFiles')}</Button>
            <Text size="sm">{t('batches.importHint')}</Text>
          </Group>
          {importFiles.busy && importProgress && <Progress mt="sm" value={percent(importProgress)} size="lg" striped animated aria-label={t('batches.importProgress')} />}
          {importFiles.busy && importProgress && <Text size="sm">{progressText(importProgress)}</Text>}
          {importFiles.result && !importFiles.busy && <Alert mt="sm" color={importFiles.result.quarantined ? CONFLICT_COLOR : OK_COLOR} data-testid="import-result">{t('batches.imported', { imported: importFiles.result.imported, transactions: importFiles.result.transactions, quarantined: importFiles.result.quarantined })}</Alert>}
          <ProblemAlert state={importFiles} mt="sm" />
        </Card>
      )}
      {retry.result && !retry.busy && <Alert color={retry.result.errors ? CONFLICT_COLOR : OK_COLOR} data-testid="retry-result">{t('batches.retried', { applied: retry.result.applied, errors: retry.result.errors, deferred: retry.result.deferred })}</Alert>}
      <ProblemAlert state={retry} />
      {d?.consumerError && (
        <Alert color="red" title={t('batches.consumerTitle')} data-testid="consumer-error">
          {d.consumerError} {t('batches.consumerText')}
        </Alert>
      )}
      {d && <FileWaits batchGaps={d.batchGaps} unmatchedFiles={d.unmatchedFiles} />}
      {d && <ProducerWaits waits={d.producerWaits} />}
      {(d?.gaps.length ?? 0) > 0 && (
        <Alert color={WAIT_COLOR} title={t('batches.gapsTitle')} data-testid="gaps-alert">
          {d!.gaps.map((g) => t(g.to > g.from ? 'status.gap' : 'status.gapOne', { from: g.from, to: g.to, producer: g.producer })).join('; ')}
        </Alert>
      )}
      <SetAside />

      <Card withBorder data-testid="reasons">
        <Title order={3} size="h4" mb="xs">{t('batches.reasonsTitle')}</Title>
        <ProblemAlert state={reasons} />
        <Reasons groups={reasons.data?.groups ?? null} may={info.permissions} onInspect={setInspect} />
      </Card>

      <Card withBorder>
        <Group align="end">
          <TextInput label={t('batches.openById')} description={t('batches.openByIdHint')} value={idText} onChange={(e) => setIdText(e.currentTarget.value)}
            onKeyDown={(e) => { if (e.key === 'Enter' && idText.trim()) setInspect(idText.trim()); }} w={420} data-testid="open-by-id" />
          <Button variant="light" disabled={!idText.trim()} onClick={() => setInspect(idText.trim())} data-testid="open-by-id-button">{t('batches.openByIdButton')}</Button>
        </Group>
      </Card>

      <Title order={3} size="h4">{t('batches.sessionsTitle')}</Title>
      <Group align="end">
        <Stack gap={4}>
          <Text size="sm" fw={500} id="batches-filter-label">{t('batches.filterLabel')}</Text>
          <SegmentedControl aria-labelledby="batches-filter-label" value={problems ? 'problems' : 'all'} onChange={(v) => filter({ problems: v === 'problems' })} data-testid="filter-problems"
            data={[{ value: 'all', label: t('batches.filterAll') }, { value: 'problems', label: t('batches.filterProblems', { n: d?.problemSessions ?? 0 }) }]} />
        </Stack>
        <Select label={t('batches.deviceLabel')} value={device ?? ''} onChange={(v) => filter({ device: v || null })} allowDeselect={false} w={340} data-testid="filter-device"
          data={[{ value: '', label: t('batches.allDevices') }, ...(d?.devices ?? []).map((x) => ({ value: x.device, label: t('batches.deviceOption', { device: x.device, sessions: x.sessions, problems: x.problems }) }))]} />
      </Group>
      <Table striped highlightOnHover data-testid="batches-table">
        <Table.Thead><Table.Tr>
          <Table.Th>{t('batches.colReceived')}</Table.Th><Table.Th>{t('batches.colKind')}</Table.Th><Table.Th>{t('batches.colBroughtBy')}</Table.Th>
          <Table.Th>{t('batches.colMadeOn')}</Table.Th><Table.Th>{t('batches.colParts')}</Table.Th><Table.Th>{t('batches.colTotal')}</Table.Th>
          <Table.Th>{t('batches.colConsumed')}</Table.Th><Table.Th>{t('batches.colWaitingAll')}</Table.Th><Table.Th>{t('batches.colFailedAll')}</Table.Th><Table.Th />
        </Table.Tr></Table.Thead>
        <Table.Tbody>
          {(d?.sessions ?? []).map((b) => [
            <Table.Tr key={b.id} data-testid="batch-row">
              <Table.Td><When iso={b.lastAt} /></Table.Td>
              <Table.Td><Text size="sm" fw={500}>{t(KIND[b.kind])}</Text>{b.kind === 'push' && b.channel === 'middleman' && <Text size="xs" c="dimmed">{t(CHANNEL.middleman)}</Text>}</Table.Td>
              <Table.Td data-testid="batch-device">{b.device}{b.label && <Text size="xs" c="dimmed">{b.label}</Text>}</Table.Td>
              <Table.Td>{b.producers.join(', ')}</Table.Td>
              <Table.Td data-testid="batch-parts">{b.requests}</Table.Td>
              <Table.Td data-testid="batch-total">{b.total}</Table.Td>
              <Table.Td data-testid="batch-consumed">{b.consumed}</Table.Td>
              <Table.Td>{waiting(b)}</Table.Td>
              <Table.Td data-testid="batch-error">{failed(b) ? <Badge color="red">{failed(b)}</Badge> : 0}</Table.Td>
              <Table.Td>
                <Button size="xs" variant="light" aria-expanded={expanded === b.id} onClick={() => setExpanded(expanded === b.id ? null : b.id)} data-testid="batch-expand">
                  {expanded === b.id ? t('batches.collapse') : t('batches.expand')}
                </Button>
              </Table.Td>
            </Table.Tr>,
            expanded === b.id && (
              <Table.Tr key={`${b.id}:detail`}>
                <Table.Td colSpan={10}><SessionDetail session={b} onInspect={setInspect} may={info.permissions} /></Table.Td>
              </Table.Tr>
            ),
          ])}
          {d?.sessions.length === 0 && <Table.Tr><Table.Td colSpan={10}><Text c="dimmed">{t('batches.nothing')}</Text></Table.Td></Table.Tr>}
        </Table.Tbody>
      </Table>
      <Pager total={d?.total ?? 0} page={page} pageSize={PAGE} onChange={(p) => { setPage(p); setExpanded(null); }} testId="batches-pager" />
      <Modal opened={inspect !== null} onClose={() => setInspect(null)} title={t('inspector.title')} size="90%" closeButtonProps={{ 'aria-label': t('common.close') }}>
        {inspect && <Inspector id={inspect} />}
      </Modal>
    </Stack>
  );
}

function Reasons({ groups, may, onInspect }: { groups: ReasonGroup[] | null; may: readonly Permission[]; onInspect: (id: string) => void }) {
  const t = useT();
  if (!groups) return null;
  if (groups.length === 0) return <Text c="dimmed" data-testid="reasons-none">{t('batches.reasonsNone')}</Text>;
  return (
    <Stack gap="sm">
      {groups.map((g) => <ReasonLine key={`${g.kind}:${g.reason}`} g={g} may={may} onInspect={onInspect} t={t} />)}
    </Stack>
  );
}

function ReasonLine({ g, may, onInspect, t }: { g: ReasonGroup; may: readonly Permission[]; onInspect: (id: string) => void; t: TFunction }) {
  const sentence = plainReason(t, { state: g.kind === 'conflict' ? 'conflict' : g.kind, code: g.code, reason: g.reason });
  return (
    <Alert color={g.kind === 'error' ? 'red' : g.kind === 'conflict' ? CONFLICT_COLOR : WAIT_COLOR} data-testid="reason-group" title={t(GROUP[g.kind], { n: g.count })}>
      <Stack gap={4}>
        {sentence && <Text size="sm" data-testid="reason-sentence">{sentence}</Text>}
        <Text size="sm" data-testid="reason-devices">
          {t('batches.groupMadeOn', { devices: g.producers.join(', ') })}{g.carriers.length > 0 && ` ${t('batches.groupBroughtBy', { devices: g.carriers.join(', ') })}`}
        </Text>
        <Text size="sm" fw={500} data-testid="reason-advice">{t(adviceFor(g, may))}</Text>
        {g.reason && <Text size="xs" c="dimmed" data-details data-testid="reason-details">{t('common.details', { details: g.reason })}</Text>}
        <Group><Button size="xs" variant="subtle" onClick={() => onInspect(g.sampleId)} data-testid="reason-open">{t('batches.openExample')}</Button></Group>
      </Stack>
    </Alert>
  );
}

function SessionDetail({ session, onInspect, may }: { session: SessionRow; onInspect: (id: string) => void; may: readonly Permission[] }) {
  const t = useT();
  const hasProblems = session.error + session.conflicts + session.blocked + session.deferred > 0;
  const [onlyProblems, setOnlyProblems] = useState(hasProblems);
  const [part, setPart] = useState<string | null | undefined>(undefined);
  const [page, setPage] = useState(0);
  const requests = useCall('batches.requests', { sessionId: session.id });
  const reasons = useCall('batches.reasons', { sessionId: session.id });
  const rows = useCall('batches.transactions', { sessionId: session.id, onlyProblems, page, pageSize: TX_PAGE, ...(part !== undefined ? { batchId: part } : {}) });
  const reqs = requests.data?.requests ?? [];
  return (
    <Stack data-testid="session-detail">
      <Text>{t('batches.detailSummary', { n: session.total, channel: t(KIND[session.kind]), from: session.device })}</Text>
      {hasProblems && <Reasons groups={reasons.data?.groups ?? null} may={may} onInspect={onInspect} />}
      {reqs.length > 1 && (
        <>
          <Title order={4} size="h5">{t('batches.partsTitle')}</Title>
          <Table withTableBorder data-testid="session-parts">
            <Table.Thead><Table.Tr><Table.Th>{t('batches.colPart')}</Table.Th><Table.Th>{t('batches.colReceived')}</Table.Th><Table.Th>{t('batches.colTotal')}</Table.Th><Table.Th>{t('batches.colConsumed')}</Table.Th><Table.Th>{t('batches.colFailedAll')}</Table.Th><Table.Th /></Table.Tr></Table.Thead>
            <Table.Tbody>
              {reqs.map((r, i) => (
                <Table.Tr key={r.batchId ?? i} data-testid="session-part">
                  <Table.Td>{t('batches.partN', { n: i + 1 })}</Table.Td><Table.Td><When iso={r.receivedAt} /></Table.Td><Table.Td>{r.total}</Table.Td><Table.Td>{r.consumed}</Table.Td><Table.Td>{failed(r)}</Table.Td>
                  <Table.Td><Button size="xs" variant={part === r.batchId ? 'filled' : 'subtle'} onClick={() => { setPart(part === r.batchId ? undefined : r.batchId); setPage(0); }}>{t('batches.changesTitle')}</Button></Table.Td>
                </Table.Tr>
              ))}
            </Table.Tbody>
          </Table>
        </>
      )}
      <Group>
        <Title order={4} size="h5">{part !== undefined ? `${t('batches.changesTitle')} · ${t('batches.partN', { n: reqs.findIndex((r) => r.batchId === part) + 1 })}` : t('batches.changesTitle')}</Title>
        {part !== undefined && <Button size="xs" variant="subtle" onClick={() => { setPart(undefined); setPage(0); }}>{t('batches.allParts')}</Button>}
        <Button size="xs" variant="subtle" onClick={() => { setOnlyProblems(!onlyProblems); setPage(0); }} data-testid="session-toggle-problems">{onlyProblems ? t('batches.showAll') : t('batches.showProblems')}</Button>
      </Group>
      <ProblemAlert state={rows} />
      <Table striped data-testid="batch-transactions">
        <Table.Thead><Table.Tr><Table.Th>{t('batches.colProducer')}</Table.Th><Table.Th>{t('batches.colSeq')}</Table.Th><Table.Th>{t('batches.colModel')}</Table.Th><Table.Th w={140}>{t('batches.colState')}</Table.Th><Table.Th>{t('batches.colReason')}</Table.Th><Table.Th /></Table.Tr></Table.Thead>
        <Table.Tbody>
          {(rows.data?.rows ?? []).map((r) => {
            const plain = plainReason(t, r);
            return (
              <Table.Tr key={r.id} data-testid="tx-row">
                <Table.Td>{r.producer}</Table.Td><Table.Td>{r.producerSeq}</Table.Td><Table.Td>{modelLabel(t, r.txName)} · {t(`actions.${r.action}`)}</Table.Td>
                <Table.Td><Badge color={stateColor(r.state)}>{t(TX_STATE[r.state])}</Badge></Table.Td>
                {/* The first sentence only: the whole reason, who acts and the details are on its grouped line and in the inspector. */}
                <Table.Td data-testid="tx-reason">{plain && <Text size="sm">{firstSentence(plain)}</Text>}</Table.Td>
                <Table.Td><Button size="xs" variant="light" onClick={() => onInspect(r.id)} aria-label={t('batches.inspectLabel', { producer: r.producer, seq: r.producerSeq })} data-testid="tx-inspect">{t('batches.inspect')}</Button></Table.Td>
              </Table.Tr>
            );
          })}
        </Table.Tbody>
      </Table>
      <Pager total={rows.data?.total ?? 0} page={page} pageSize={TX_PAGE} onChange={setPage} testId="tx-pager" />
    </Stack>
  );
}

/** Files import set aside because a check failed, newest first, with a count and a pager; the reason is the details line. */
function SetAside() {
  const t = useT();
  const [page, setPage] = useState(0);
  const pageSize = 10;
  const q = useCall('files.setAside', { page, pageSize }, { pollMs: 5000 });
  useEvents((e) => {
    if (e.type === 'changed') void q.reload();
  });
  const total = q.data?.total ?? 0;
  if (total === 0) return <ProblemAlert state={q} />;
  return (
    <Card withBorder data-testid="set-aside">
      <Title order={3} size="h4" mb="xs">{t('batches.quarantinedTitle')}</Title>
      <Text size="sm" mb="xs">{t('batches.quarantinedHint', { n: total })}</Text>
      <ProblemAlert state={q} />
      <Table striped>
        <Table.Thead><Table.Tr><Table.Th>{t('batches.colFile')}</Table.Th><Table.Th>{t('batches.colSetAside')}</Table.Th><Table.Th>{t('batches.colWhy')}</Table.Th></Table.Tr></Table.Thead>
        <Table.Tbody>
          {(q.data?.rows ?? []).map((r, i) => (
            <Table.Tr key={`${r.fileName}-${i}`} data-testid="set-aside-row">
              <Table.Td><Text size="sm" ff="monospace">{r.fileName}</Text></Table.Td>
              <Table.Td><When iso={r.at} /></Table.Td>
              <Table.Td><Text size="xs" c="dimmed" data-details>{t('common.details', { details: r.reason ?? '' })}</Text></Table.Td>
            </Table.Tr>
          ))}
        </Table.Tbody>
      </Table>
      <Pager total={total} page={page} pageSize={pageSize} onChange={setPage} testId="set-aside-pager" />
    </Card>
  );
}
