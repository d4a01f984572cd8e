import { Alert, Badge, Button, Card, Group, Modal, Progress, Stack, Table, Text, Title } from '@mantine/core';
import { useState } from 'react';
import type { SessionRow as BatchRow } from '../../../shared/contract.ts';
import { percent, useAction, useApp, useCall, useEvents, useProgress } from '../hooks.ts';
import { useFormat, useT, type MessageKey } from '../i18n.tsx';
import { modelLabel, useProgressText, ProblemAlert } from '../ui.tsx';

const CHANNEL = { rest: 'batches.channelRest', middleman: 'batches.channelMiddleman', file: 'batches.channelFile', copy: 'batches.channelCopy' } as const satisfies Record<BatchRow['channel'], MessageKey>;
const STATE = { consumed: 'batches.stateConsumed', pending: 'batches.statePending', deferred: 'batches.stateDeferred', blocked: 'batches.stateDeferred', error: 'batches.stateError', conflict: 'batches.stateConflict', ignored: 'batches.stateIgnored' } as const satisfies Record<string, MessageKey>;

export function BatchesScreen() {
  const { info } = useApp();
  const t = useT();
  const f = useFormat();
  const progressText = useProgressText();
  const list = useCall('batches.list', {}, { pollMs: 5000 });
  const retry = useAction('batches.retry');
  const importFiles = useAction('files.import');
  const [importProgress, resetImport] = useProgress('files.import');
  const canImport = info.permissions.includes('transfer');
  const [open, setOpen] = useState<BatchRow | null>(null);
  useEvents((e) => {
    if (e.type === 'changed') void list.reload();
  });
  const errors = list.data?.errors ?? 0;
  const canRetry = info.permissions.includes('retry');
  const doRetry = async () => {
    await retry.run({});
    void list.reload();
  };
  return (
    <Stack>
      <Title order={2}>{t('batches.title')}</Title>
      <ProblemAlert state={list} />
      <Group>
        <Text data-testid="batches-errors">{t('batches.errorsCount', { n: errors })}</Text>
        {canRetry && <Button onClick={() => void doRetry()} loading={retry.busy} disabled={errors === 0 && !list.data?.consumerError} data-testid="retry-all">{t('batches.retry')}</Button>}
      </Group>
      {canImport && (
        <Card withBorder>
          <Group>
            <Button variant="outline" loading={importFiles.busy} data-testid="import-files" onClick={async () => { resetImport(); await importFiles.run({}); void list.reload(); }}>{t('batches.importFiles')}</Button>
            <Text size="sm">{t('batches.importHint')}</Text>
          </Group>
          {importFiles.busy && importProgress && <Progress mt="sm" value={percent(importProgress)} size="lg" striped animated aria-label={t('batches.importProgress')} />}
          {importFiles.busy && importProgress && <Text size="sm">{progressText(importProgress)}</Text>}
          {importFiles.result && !importFiles.busy && <Alert mt="sm" color={importFiles.result.quarantined ? 'orange' : 'green'} data-testid="import-result">{t('batches.imported', { imported: importFiles.result.imported, transactions: importFiles.result.transactions, quarantined: importFiles.result.quarantined })}</Alert>}
          <ProblemAlert state={importFiles} mt="sm" />
        </Card>
      )}
      {retry.result && !retry.busy && <Alert color={retry.result.errors ? 'orange' : 'green'} data-testid="retry-result">{t('batches.retried', { applied: retry.result.applied, errors: retry.result.errors, deferred: retry.result.deferred })}</Alert>}
      <ProblemAlert state={retry} />
      {list.data?.consumerError && (
        <Alert color="red" title={t('batches.consumerTitle')} data-testid="consumer-error">
          {list.data.consumerError} {t('batches.consumerText')}
        </Alert>
      )}
      {(list.data?.gaps.length ?? 0) > 0 && (
        <Alert color="yellow" title={t('batches.gapsTitle')}>
          {list.data!.gaps.map((g) => t(g.to > g.from ? 'status.gap' : 'status.gapOne', { from: g.from, to: g.to, producer: g.producer })).join('; ')}
        </Alert>
      )}
      {(list.data?.quarantined.length ?? 0) > 0 && (
        <Alert color="orange" title={t('batches.quarantinedTitle')}>{list.data!.quarantined.map((q) => `${q.fileName}: ${q.reason ?? ''}`).join(' · ')}</Alert>
      )}
      <Table striped highlightOnHover data-testid="batches-table">
        <Table.Thead><Table.Tr><Table.Th>{t('batches.colReceived')}</Table.Th><Table.Th>{t('batches.colChannel')}</Table.Th><Table.Th>{t('batches.colFrom')}</Table.Th><Table.Th>{t('batches.colTotal')}</Table.Th><Table.Th>{t('batches.colConsumed')}</Table.Th><Table.Th>{t('batches.colWaiting')}</Table.Th><Table.Th>{t('batches.colDeferred')}</Table.Th><Table.Th>{t('batches.colError')}</Table.Th><Table.Th /></Table.Tr></Table.Thead>
        <Table.Tbody>
          {(list.data?.sessions ?? []).map((b) => (
            <Table.Tr key={b.id} data-testid="batch-row">
              <Table.Td>{f.dateTime(b.lastAt)}</Table.Td>
              <Table.Td><Badge variant="outline">{t(CHANNEL[b.channel])}</Badge></Table.Td>
              <Table.Td>{b.producers.join(', ')}</Table.Td>
              <Table.Td data-testid="batch-total">{b.total}</Table.Td>
              <Table.Td data-testid="batch-consumed">{b.consumed}</Table.Td>
              <Table.Td>{b.pending}</Table.Td>
              <Table.Td>{b.deferred}</Table.Td>
              <Table.Td data-testid="batch-error">{b.error ? <Badge color="red">{b.error}</Badge> : 0}</Table.Td>
              <Table.Td><Button size="xs" variant="light" onClick={() => setOpen(b)}>{t('batches.openBatch')}</Button></Table.Td>
            </Table.Tr>
          ))}
          {list.data?.sessions.length === 0 && <Table.Tr><Table.Td colSpan={9}><Text c="dimmed">{t('batches.nothing')}</Text></Table.Td></Table.Tr>}
        </Table.Tbody>
      </Table>
      <Modal opened={open !== null} onClose={() => setOpen(null)} title={t('batches.detailTitle')} size="90%">
        {open && <BatchDetail batch={open} />}
      </Modal>
    </Stack>
  );
}

function BatchDetail({ batch }: { batch: BatchRow }) {
  const t = useT();
  const [onlyProblems, setOnlyProblems] = useState(batch.error + batch.deferred + batch.conflicts > 0);
  const rows = useCall('batches.transactions', { sessionId: batch.id, onlyProblems });
  return (
    <Stack>
      <Group>
        <Text>{t('batches.detailSummary', { n: batch.total, channel: t(CHANNEL[batch.channel]), from: batch.producers.join(', ') })}</Text>
        <Button size="xs" variant="subtle" onClick={() => setOnlyProblems(!onlyProblems)}>{onlyProblems ? t('batches.showAll') : t('batches.showProblems')}</Button>
      </Group>
      <ProblemAlert state={rows} />
      <Table striped data-testid="batch-transactions">
        <Table.Thead><Table.Tr><Table.Th>{t('batches.colProducer')}</Table.Th><Table.Th>{t('batches.colSeq')}</Table.Th><Table.Th>{t('batches.colModel')}</Table.Th><Table.Th w={120}>{t('batches.colState')}</Table.Th><Table.Th>{t('batches.colReason')}</Table.Th></Table.Tr></Table.Thead>
        <Table.Tbody>
          {(rows.data?.rows ?? []).map((r) => (
            <Table.Tr key={r.id}>
              <Table.Td>{r.producer}</Table.Td><Table.Td>{r.producerSeq}</Table.Td><Table.Td>{modelLabel(t, r.txName)}</Table.Td>
              <Table.Td><Badge color={r.state === 'consumed' ? 'green' : r.state === 'error' ? 'red' : 'yellow'}>{t(STATE[r.state])}</Badge></Table.Td>
              <Table.Td data-testid="tx-reason">{r.reason ?? ''}</Table.Td>
            </Table.Tr>
          ))}
        </Table.Tbody>
      </Table>
      <Card withBorder><Text size="sm">{t('batches.advice')}</Text></Card>
    </Stack>
  );
}
