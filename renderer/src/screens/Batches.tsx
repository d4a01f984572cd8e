import { Alert, Badge, Button, Card, Group, Modal, Progress, Stack, Table, Text, Title } from '@mantine/core';
import { useState } from 'react';
import type { BatchRow } from '../../../shared/contract.ts';
import { percent, useAction, useApp, useCall, useEvents, useProgress } from '../hooks.ts';

const CHANNEL = { rest: 'REST', middleman: 'middleman', file: 'file', copy: 'copy' } as const;

export function BatchesScreen() {
  const { info } = useApp();
  const list = useCall('batches.list', { limit: 100 }, { pollMs: 5000 });
  const retry = useAction('batches.retry');
  const importFiles = useAction('files.import');
  const [importProgress, resetImport] = useProgress('files.import');
  const canImport = info.permissions.includes('transfer');
  const [open, setOpen] = useState<BatchRow | null>(null);
  useEvents((e) => {
    if (e.type === 'changed') void list.reload();
  });
  const errors = (list.data?.batches ?? []).reduce((n, b) => n + b.error, 0);
  const canRetry = info.permissions.includes('retry');
  const doRetry = async () => {
    await retry.run({});
    void list.reload();
  };
  return (
    <Stack>
      <Title order={2}>Consumed batches</Title>
      {list.error && <Alert color="red">{list.error}</Alert>}
      <Group>
        <Text data-testid="batches-errors">{errors} transaction(s) in error</Text>
        {canRetry && <Button onClick={() => void doRetry()} loading={retry.busy} disabled={errors === 0 && !list.data?.consumerError} data-testid="retry-all">Retry failed transactions</Button>}
      </Group>
      {canImport && (
        <Card withBorder>
          <Group>
            <Button variant="outline" loading={importFiles.busy} data-testid="import-files" onClick={async () => { resetImport(); await importFiles.run({}); void list.reload(); }}>Import arrived files</Button>
            <Text size="sm">Checks, imports and applies the transaction files in the import folder, and writes receipts for the senders.</Text>
          </Group>
          {importFiles.busy && importProgress && <Progress mt="sm" value={percent(importProgress)} size="lg" striped animated aria-label="Import progress" />}
          {importFiles.result && !importFiles.busy && <Alert mt="sm" color={importFiles.result.quarantined ? 'orange' : 'green'} data-testid="import-result">{importFiles.result.message}</Alert>}
          {importFiles.error && <Alert mt="sm" color="red" role="alert">{importFiles.error}</Alert>}
        </Card>
      )}
      {retry.result && !retry.busy && <Alert color={retry.result.errors ? 'orange' : 'green'} data-testid="retry-result">Retried: {retry.result.applied} applied, {retry.result.errors} still failing, {retry.result.deferred} waiting for other records.</Alert>}
      {retry.error && <Alert color="red" role="alert">{retry.error}</Alert>}
      {list.data?.consumerError && (
        <Alert color="red" title="Received transactions are not being applied" data-testid="consumer-error">
          {list.data.consumerError} They stay here, unchanged, and are applied as soon as the cause is fixed and new data arrives (or press Retry).
        </Alert>
      )}
      {(list.data?.gaps.length ?? 0) > 0 && (
        <Alert color="yellow" title="Gaps: transactions not received yet">
          {list.data!.gaps.map((g) => `${g.producer}: ${g.from}${g.to > g.from ? `–${g.to}` : ''}`).join('; ')}
        </Alert>
      )}
      {(list.data?.quarantined.length ?? 0) > 0 && (
        <Alert color="orange" title="Quarantined files">{list.data!.quarantined.map((q) => `${q.fileName}: ${q.reason ?? ''}`).join(' · ')}</Alert>
      )}
      <Table striped highlightOnHover data-testid="batches-table">
        <Table.Thead><Table.Tr><Table.Th>Received</Table.Th><Table.Th>Channel</Table.Th><Table.Th>From</Table.Th><Table.Th>Total</Table.Th><Table.Th>Consumed</Table.Th><Table.Th>Waiting</Table.Th><Table.Th>Deferred</Table.Th><Table.Th>Error</Table.Th><Table.Th /></Table.Tr></Table.Thead>
        <Table.Tbody>
          {(list.data?.batches ?? []).map((b) => (
            <Table.Tr key={`${b.channel}:${b.batchId ?? ''}`} data-testid="batch-row">
              <Table.Td>{new Date(b.firstReceivedAt).toLocaleString()}</Table.Td>
              <Table.Td><Badge variant="outline">{CHANNEL[b.channel]}</Badge></Table.Td>
              <Table.Td>{b.producers.join(', ')}</Table.Td>
              <Table.Td data-testid="batch-total">{b.total}</Table.Td>
              <Table.Td data-testid="batch-consumed">{b.consumed}</Table.Td>
              <Table.Td>{b.pending}</Table.Td>
              <Table.Td>{b.deferred}</Table.Td>
              <Table.Td data-testid="batch-error">{b.error ? <Badge color="red">{b.error}</Badge> : 0}</Table.Td>
              <Table.Td><Button size="xs" variant="light" onClick={() => setOpen(b)}>Details</Button></Table.Td>
            </Table.Tr>
          ))}
          {list.data?.batches.length === 0 && <Table.Tr><Table.Td colSpan={9}><Text c="dimmed">Nothing received yet.</Text></Table.Td></Table.Tr>}
        </Table.Tbody>
      </Table>
      <Modal opened={open !== null} onClose={() => setOpen(null)} title="Batch details" size="90%">
        {open && <BatchDetail batch={open} />}
      </Modal>
    </Stack>
  );
}

function BatchDetail({ batch }: { batch: BatchRow }) {
  const [onlyProblems, setOnlyProblems] = useState(batch.error + batch.deferred + batch.conflicts > 0);
  const rows = useCall('batches.transactions', { batchId: batch.batchId, channel: batch.channel, onlyProblems });
  return (
    <Stack>
      <Group>
        <Text>{batch.total} transaction(s) via {CHANNEL[batch.channel]} from {batch.producers.join(', ')}</Text>
        <Button size="xs" variant="subtle" onClick={() => setOnlyProblems(!onlyProblems)}>{onlyProblems ? 'Show all' : 'Show problems only'}</Button>
      </Group>
      {rows.error && <Alert color="red">{rows.error}</Alert>}
      <Table striped data-testid="batch-transactions">
        <Table.Thead><Table.Tr><Table.Th>Producer</Table.Th><Table.Th>#</Table.Th><Table.Th>Model</Table.Th><Table.Th w={120}>State</Table.Th><Table.Th>Reason and what to do</Table.Th></Table.Tr></Table.Thead>
        <Table.Tbody>
          {(rows.data?.rows ?? []).map((r) => (
            <Table.Tr key={r.id}>
              <Table.Td>{r.producer}</Table.Td><Table.Td>{r.producerSeq}</Table.Td><Table.Td>{r.txName.replace('edc.', '')}</Table.Td>
              <Table.Td><Badge color={r.state === 'consumed' ? 'green' : r.state === 'error' ? 'red' : 'yellow'}>{r.state}</Badge></Table.Td>
              <Table.Td data-testid="tx-reason">{r.reason ?? ''}</Table.Td>
            </Table.Tr>
          ))}
        </Table.Tbody>
      </Table>
      <Card withBorder><Text size="sm">Fix the cause named in the reason (for a missing key: import the study's newer key set on the Device screen or with `edc-sync keys import`), then press <b>Retry failed transactions</b>.</Text></Card>
    </Stack>
  );
}
