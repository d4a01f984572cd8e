import { Alert, Badge, Button, Card, Group, Progress, Stack, Table, Text, Title } from '@mantine/core';
import { useAction, useCall, percent, useProgress } from '../hooks.ts';

const COLOR = { pending: 'gray', written: 'yellow', sent: 'blue', acknowledged: 'green' } as const;
/** What each state means to the person sending: a receipt from the receiver is what makes a batch delivered. */
const LABEL = { pending: 'not written', written: 'to send', sent: 'sent', acknowledged: 'received' } as const;

export function FilesScreen() {
  const overview = useCall('files.overview', {});
  const send = useAction('files.send');
  const [progress, reset] = useProgress('files.send');
  const o = overview.data;
  return (
    <Stack>
      <Title order={2}>File transfer</Title>
      {overview.error && <Alert color="red">{overview.error}</Alert>}
      {o && (
        <Card withBorder p="lg">
          <Stack>
            <Text size="lg" data-testid="files-pending">{o.pendingTransactions} transaction(s) not yet in a file.</Text>
            <Text c="dimmed">{o.configured ? `Files go to ${o.target}.` : 'File transfer is not set up: an administrator sets the SFTP server on the Device & settings screen (or with `edc-sync config set`).'}</Text>
            <Group><Button size="xl" disabled={!o.configured} loading={send.busy} onClick={async () => { reset(); await send.run({}); void overview.reload(); }} data-testid="files-send">Send files</Button></Group>
            {(send.busy || progress) && <Progress value={send.busy ? percent(progress) : 100} size="xl" striped={send.busy} animated={send.busy} aria-label="Send progress" />}
            {send.busy && progress && <Text>{progress.phase}: {progress.done} of {progress.total}</Text>}
            {send.result && !send.busy && <Alert color="green" data-testid="files-result">{send.result.message}</Alert>}
            {send.error && <Alert color="red" role="alert">{send.error}</Alert>}
          </Stack>
        </Card>
      )}
      <Title order={3}>History</Title>
      <Table striped>
        <Table.Thead><Table.Tr><Table.Th>Batch</Table.Th><Table.Th>File</Table.Th><Table.Th>Transactions</Table.Th><Table.Th>State</Table.Th><Table.Th>Sent</Table.Th><Table.Th>Receipt</Table.Th></Table.Tr></Table.Thead>
        <Table.Tbody>
          {(o?.batches ?? []).map((b) => (
            <Table.Tr key={b.batchId}>
              <Table.Td>{b.batchSeq}</Table.Td><Table.Td><Text size="sm" ff="monospace">{b.fileName}</Text></Table.Td><Table.Td>{b.count}</Table.Td>
              <Table.Td><Badge color={COLOR[b.status]} data-testid="file-state">{LABEL[b.status]}</Badge></Table.Td>
              <Table.Td>{b.sentAt ? new Date(b.sentAt).toLocaleString() : '—'}</Table.Td>
              <Table.Td>{b.acknowledgedAt ? `received ${new Date(b.acknowledgedAt).toLocaleString()}` : 'waiting'}</Table.Td>
            </Table.Tr>
          ))}
          {o?.batches.length === 0 && <Table.Tr><Table.Td colSpan={6}><Text c="dimmed">No files yet.</Text></Table.Td></Table.Tr>}
        </Table.Tbody>
      </Table>
    </Stack>
  );
}
