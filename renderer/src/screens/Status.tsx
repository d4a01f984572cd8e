import { Alert, Badge, Button, Card, Group, Progress, SimpleGrid, Stack, Table, Text, Title } from '@mantine/core';
import { useApp, useAction, useCall, useEvents, percent, useProgress } from '../hooks.ts';

function Count({ label, value, testId }: { label: string; value: number | string; testId?: string }) {
  return (
    <Card withBorder>
      <Text size="sm" c="dimmed">{label}</Text>
      <Text fz={typeof value === 'number' ? 32 : 20} fw={700} mt={typeof value === 'number' ? 0 : 8} data-testid={testId}>{value}</Text>
    </Card>
  );
}

export function StatusScreen() {
  const { info } = useApp();
  const status = useCall('status.get', {}, { pollMs: 5000 });
  const sender = info.deviceRole === 'field' || info.deviceRole === 'middleman';
  useEvents((e) => {
    if (e.type === 'changed') void status.reload();
  });
  const s = status.data;
  return (
    <Stack>
      <Title order={2}>Status</Title>
      {status.error && <Alert color="red" role="alert">{status.error}</Alert>}
      <Group>
        <Badge size="xl">{info.deviceRole}</Badge>
        <Text fw={600}>{info.deviceId}</Text>
        <Text c="dimmed">EDC Sync {info.version}</Text>
      </Group>
      {sender && <ServerLine />}
      {s && (
        <>
          <SimpleGrid cols={{ base: 2, md: 4 }}>
            {sender && <Count label="Waiting for the server" value={s.outgoing.pendingServer + s.incoming.awaitingForward} testId="pending-server" />}
            {info.deviceRole === 'site' && <Count label="Not yet at central" value={s.incoming.awaitingForward} testId="awaiting-forward" />}
            {info.deviceRole === 'field' && <Count label="Not yet with a middleman" value={s.outgoing.pendingMiddleman} testId="pending-middleman" />}
            {info.deviceRole !== 'field' && <Count label="Received" value={s.incoming.total} testId="incoming-total" />}
            {info.deviceRole !== 'field' && <Count label="Consumed" value={s.incoming.consumed} testId="incoming-consumed" />}
            {info.deviceRole !== 'field' && <Count label="Errors" value={s.incoming.error} testId="incoming-error" />}
            <Count label="Last sync" value={s.lastSync ? new Date(s.lastSync).toLocaleString() : 'never'} testId="last-sync" />
          </SimpleGrid>
          {s.incoming.conflicts > 0 && (
            <Alert color="orange" title="Conflicts wait for a decision" data-testid="conflicts-alert">
              {s.incoming.conflicts} change(s) were not applied because the record had changed here meanwhile. Nothing was lost: a data manager compares both versions on the <a href="#/conflicts">Conflicts</a> screen.
            </Alert>
          )}
          {s.incoming.gaps.length > 0 && (
            <Alert color="yellow" title="Waiting for missing transactions">
              {s.incoming.gaps.map((g) => `${g.producer}: ${g.from}${g.to > g.from ? `–${g.to}` : ''}`).join('; ')}. Later ones from these devices wait until these arrive.
            </Alert>
          )}
          <Card withBorder>
            <Title order={4} mb="xs">Records on this device</Title>
            <Table data-testid="records">
              <Table.Tbody>
                {Object.entries(s.records).map(([k, v]) => (
                  <Table.Tr key={k}><Table.Td>{k.replace('edc.', '').replace('_', ' ')}</Table.Td><Table.Td data-testid={`records-${k}`}>{v}</Table.Td></Table.Tr>
                ))}
              </Table.Tbody>
            </Table>
          </Card>
        </>
      )}
      {sender && <SyncPanel onDone={() => void status.reload()} />}
    </Stack>
  );
}

function ServerLine() {
  const check = useCall('server.check', {}, { pollMs: 15000 });
  if (!check.data) return <Text c="dimmed">Checking the server…</Text>;
  return (
    <Group>
      <Badge color={check.data.reachable ? 'green' : check.data.configured ? 'red' : 'gray'} size="lg" data-testid="server-state">
        {check.data.reachable ? 'server reachable' : check.data.configured ? 'server not reachable' : 'not paired'}
      </Badge>
      <Text size="sm">{check.data.url ?? ''} {check.data.reachable ? '' : check.data.message}</Text>
    </Group>
  );
}

function SyncPanel({ onDone }: { onDone: () => void }) {
  const sync = useAction('sync.run');
  const [progress, resetProgress] = useProgress('sync.run');
  const press = async () => {
    resetProgress();
    await sync.run({});
    onDone();
  };
  return (
    <Card withBorder p="lg">
      <Stack>
        <Button size="xl" h={80} fz={28} onClick={() => void press()} loading={sync.busy} data-testid="sync-button">Sync</Button>
        {(sync.busy || progress) && <Progress value={sync.busy ? percent(progress) : 100} size="xl" striped={sync.busy} animated={sync.busy} aria-label="Sync progress" />}
        {sync.busy && progress && <Text>{progress.phase}: {progress.done} of {progress.total}</Text>}
        {sync.result && !sync.busy && <Alert color={sync.result.rejected ? 'orange' : 'green'} data-testid="sync-result">{sync.result.message}</Alert>}
        {sync.error && <Alert color="red" role="alert" data-testid="sync-error">{sync.error}</Alert>}
      </Stack>
    </Card>
  );
}
