import { Alert, Badge, Button, Card, Group, Stack, Switch, Table, Text, Title } from '@mantine/core';
import { useState } from 'react';
import type { ConflictRow } from '../../../shared/contract.ts';
import { useAction, useApp, useCall } from '../hooks.ts';
import { useFormat, useT, type MessageKey } from '../i18n.tsx';
import { modelLabel, Pager, ProblemAlert, OK_COLOR } from '../ui.tsx';
import { fieldLabel } from './Inspector.tsx';

const WHY = {
  'update-changed': 'conflicts.whyUpdateChanged', 'update-deleted': 'conflicts.whyUpdateDeleted', 'delete-changed': 'conflicts.whyDeleteChanged',
  exists: 'conflicts.whyExists', 'natural-key': 'conflicts.whyNaturalKey',
} as const satisfies Record<ConflictRow['kind'], MessageKey>;


/**
 * Changes that were not applied because the record had changed here meanwhile. Both versions side by side; a data
 * manager keeps the version here or takes the incoming one (written and synced like any change).
 */
export function ConflictsScreen() {
  const t = useT();
  const [includeResolved, setIncludeResolved] = useState(false);
  const [page, setPage] = useState(0);
  const pageSize = 20;
  const list = useCall('conflicts.list', { includeResolved, page, pageSize });
  const rows = list.data?.conflicts ?? [];
  const total = list.data?.total ?? 0;
  return (
    <Stack>
      <Title order={2}>{t('conflicts.title')}</Title>
      <Text>{t('conflicts.intro')}</Text>
      <Switch label={t('conflicts.showResolved')} checked={includeResolved} onChange={(e) => { setIncludeResolved(e.currentTarget.checked); setPage(0); }} />
      <ProblemAlert state={list} />
      {rows.length === 0 && !list.loading && <Alert color={OK_COLOR} data-testid="no-conflicts">{t('conflicts.none')}</Alert>}
      {total > 0 && <Text fw={600} data-testid="conflicts-count">{t('conflicts.count', { n: total })}</Text>}
      {rows.map((c) => <ConflictCard key={c.incomingId} conflict={c} onDone={() => void list.reload()} />)}
      {total > 0 && <Pager total={total} page={page} pageSize={pageSize} onChange={setPage} testId="conflicts-pager" />}
    </Stack>
  );
}

function ConflictCard({ conflict: c, onDone }: { conflict: ConflictRow; onDone: () => void }) {
  const { info } = useApp();
  const t = useT();
  const f = useFormat();
  const resolve = useAction('conflicts.resolve');
  const canResolve = info.permissions.includes('resolve') && c.resolvedAt === null;
  const decide = async (resolution: 'keep-here' | 'take-incoming') => {
    if (await resolve.run({ incomingId: c.incomingId, resolution })) onDone();
  };
  return (
    <Card withBorder data-testid="conflict">
      <Group mb="xs">
        <Title order={4} data-testid="conflict-title">{modelLabel(t, c.txName)} {c.label ?? ''}</Title>
        {/* Dark enough for white text (WCAG AA). */}
        {c.resolvedAt ? <Badge color={OK_COLOR}>{c.resolution === 'keep-here' ? t('conflicts.kept') : t('conflicts.took')} · {c.resolvedBy}</Badge> : <Badge color="#8a3406">{t('conflicts.open')}</Badge>}
      </Group>
      <Text size="sm" data-testid="conflict-why">{t(WHY[c.kind], { here: c.localRevision ?? 0, base: c.incomingBaseRevision, who: c.changedIncomingBy ?? t('common.unknown') })}</Text>
      <Text size="xs" c="dimmed" mb="sm" data-details>{t('common.details', { details: c.reason ?? c.recordId })}</Text>
      <Table withTableBorder>
        <Table.Thead><Table.Tr><Table.Th>{t('conflicts.colField')}</Table.Th><Table.Th>{t('conflicts.colHere', { rev: c.localRevision ?? '—', who: c.changedHereBy ?? '?' })}</Table.Th><Table.Th>{t('conflicts.colIncoming', { rev: c.incomingBaseRevision, who: c.changedIncomingBy ?? '?' })}</Table.Th></Table.Tr></Table.Thead>
        <Table.Tbody>
          {Object.entries(c.differences).map(([k, [here, incoming]]) => (
            <Table.Tr key={k}><Table.Td><Text size="sm">{fieldLabel(t, k)}</Text></Table.Td>{c.protectedFields.includes(k)
              ? <><Table.Td data-testid="protected">{t('pending.protected')}</Table.Td><Table.Td data-testid="protected">{t('pending.protected')}</Table.Td></>
              : <><Table.Td>{f.value(k, here) || '—'}</Table.Td><Table.Td>{f.value(k, incoming) || '—'}</Table.Td></>}</Table.Tr>
          ))}
        </Table.Tbody>
      </Table>
      {canResolve && (
        <Group mt="md">
          <Button variant="outline" loading={resolve.busy} onClick={() => void decide('keep-here')}>{t('conflicts.keep')}</Button>
          <Button loading={resolve.busy} disabled={!c.canTakeIncoming} onClick={() => void decide('take-incoming')}>{t('conflicts.take')}</Button>
          {!c.canTakeIncoming && <Text size="sm" c="dimmed">{t('conflicts.onlyKeep')}</Text>}
        </Group>
      )}
      <ProblemAlert state={resolve} mt="sm" />
    </Card>
  );
}
