import { Alert, Badge, Button, Card, Group, Stack, Switch, Table, Text, Title } from '@mantine/core';
import { useState } from 'react';
import type { ConflictRow } from '../../../shared/contract.ts';
import { useAction, useApp, useCall } from '../hooks.ts';

const show = (v: unknown): string => (v === null || v === undefined ? '—' : typeof v === 'string' ? v : JSON.stringify(v));

/**
 * Changes that were not applied because the record had changed here meanwhile. Both versions side by side; a data
 * manager keeps the version here or takes the incoming one (written and synced like any change).
 */
export function ConflictsScreen() {
  const [includeResolved, setIncludeResolved] = useState(false);
  const list = useCall('conflicts.list', { includeResolved });
  const rows = list.data?.conflicts ?? [];
  return (
    <Stack>
      <Title order={2}>Conflicts</Title>
      <Text>A change arrived for a record that had already changed here. Nothing was overwritten: compare both versions and decide.</Text>
      <Switch label="Show resolved conflicts too" checked={includeResolved} onChange={(e) => setIncludeResolved(e.currentTarget.checked)} />
      {list.error && <Alert color="red">{list.error}</Alert>}
      {rows.length === 0 && !list.loading && <Alert color="green" data-testid="no-conflicts">No open conflicts.</Alert>}
      {rows.map((c) => <ConflictCard key={c.incomingId} conflict={c} onDone={() => void list.reload()} />)}
    </Stack>
  );
}

function ConflictCard({ conflict: c, onDone }: { conflict: ConflictRow; onDone: () => void }) {
  const { info } = useApp();
  const resolve = useAction('conflicts.resolve');
  const canResolve = info.permissions.includes('resolve') && c.resolvedAt === null;
  const decide = async (resolution: 'keep-here' | 'take-incoming') => {
    if (await resolve.run({ incomingId: c.incomingId, resolution })) onDone();
  };
  return (
    <Card withBorder data-testid="conflict">
      <Group mb="xs">
        <Title order={4}>{c.txName.replace('edc.', '')} {c.recordId}</Title>
        {c.resolvedAt ? <Badge color="green">{c.resolution === 'keep-here' ? 'kept here' : 'took incoming'} · {c.resolvedBy}</Badge> : <Badge color="orange">open</Badge>}
      </Group>
      <Text size="sm" c="dimmed" mb="sm">{c.reason}</Text>
      <Table withTableBorder>
        <Table.Thead><Table.Tr><Table.Th>Field</Table.Th><Table.Th>Here (revision {c.localRevision ?? '—'}, {c.changedHereBy ?? '?'})</Table.Th><Table.Th>Incoming (made from revision {c.incomingBaseRevision}, {c.changedIncomingBy ?? '?'})</Table.Th></Table.Tr></Table.Thead>
        <Table.Tbody>
          {Object.entries(c.differences).map(([k, [here, incoming]]) => (
            <Table.Tr key={k}><Table.Td><Text ff="monospace" size="sm">{k}</Text></Table.Td><Table.Td>{show(here)}</Table.Td><Table.Td>{show(incoming)}</Table.Td></Table.Tr>
          ))}
        </Table.Tbody>
      </Table>
      {canResolve && (
        <Group mt="md">
          <Button variant="outline" loading={resolve.busy} onClick={() => void decide('keep-here')}>Keep the version here</Button>
          <Button loading={resolve.busy} disabled={!c.canTakeIncoming} onClick={() => void decide('take-incoming')}>Take the incoming version</Button>
          {!c.canTakeIncoming && <Text size="sm" c="dimmed">The record does not exist here as this record, so only keeping is possible.</Text>}
        </Group>
      )}
      {resolve.error && <Alert color="red" mt="sm" role="alert">{resolve.error}</Alert>}
    </Card>
  );
}
