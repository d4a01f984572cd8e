import { Alert, Badge, Button, Checkbox, Code, Group, Modal, Select, Stack, Switch, Table, Text, TextInput, Title, UnstyledButton } from '@mantine/core';
import { createColumnHelper, flexRender, getCoreRowModel, useReactTable, type SortingState } from '@tanstack/react-table';
import { useEffect, useMemo, useState, type FormEvent } from 'react';
import { contract, type CallOutput } from '../../../shared/contract.ts';
import { FLEET_SORTS, type DeviceFlag, type DeviceRow, type FleetSort } from '../../../shared/fleet.ts';
import { useAction, useApp, useCall, useEvents } from '../hooks.ts';
import { useFormat, useT, type MessageKey, type TFunction } from '../i18n.tsx';
import { CONFLICT_COLOR, Pager, ProblemAlert, WAIT_COLOR, When } from '../ui.tsx';

const col = createColumnHelper<DeviceRow>();
/** Devices per page: the backend filters, orders and pages the list (devices.list), the screen shows one page. */
const DEVICES_PAGE = 20;
const FLAG: Record<DeviceFlag, { label: MessageKey; color: string }> = {
  owing: { label: 'devices.flagOwing', color: CONFLICT_COLOR },
  'missing-key': { label: 'devices.flagMissingKey', color: 'red' },
  'old-version': { label: 'devices.flagOldVersion', color: WAIT_COLOR },
  'clock-drift': { label: 'devices.flagClockDrift', color: 'grape' },
  revoked: { label: 'devices.flagRevoked', color: 'gray' },
};
const VIA: Record<string, MessageKey> = { contact: 'devices.viaContact', push: 'devices.viaPush', share: 'devices.viaShare', middleman: 'devices.viaMiddleman', file: 'devices.viaFile' };

/** "3 years", "5 minutes": the largest unit that fits. */
function amount(t: TFunction, ms: number): string {
  const a = Math.abs(ms);
  const units: [number, MessageKey][] = [[365 * 24 * 3600_000, 'devices.years'], [24 * 3600_000, 'devices.days'], [3600_000, 'devices.hours'], [60_000, 'devices.minutes']];
  for (const [size, key] of units) if (a >= size) return t(key, { n: Math.floor(a / size) });
  return t('devices.seconds', { n: Math.floor(a / 1000) });
}

export function clockText(t: TFunction, skewMs: number | null, warnMs: number): string {
  if (skewMs === null) return t('devices.unknown');
  if (Math.abs(skewMs) < Math.min(warnMs, 60_000)) return t('devices.clockOnTime');
  return t(skewMs > 0 ? 'devices.clockAhead' : 'devices.clockBehind', { amount: amount(t, skewMs) });
}

/**
 * Who still owes what: one row per device this one has heard from (site, central) or visited (a middleman, today by
 * default), with what it made, what is held here and at central, versions, keys and clock. Those needing attention
 * come first; any column header sorts.
 */
export function DevicesScreen() {
  const { info } = useApp();
  const t = useT();
  const f = useFormat();
  const middleman = info.deviceRole === 'middleman';
  const [today, setToday] = useState(middleman);
  const [sorting, setSorting] = useState<SortingState>([]);
  // A page of the ordered list: attention first, or by the column clicked (all devices ordered, then the page cut, in SQL).
  const [page, setPage] = useState(0);
  const by = sorting[0];
  const sort: FleetSort = by && (FLEET_SORTS as readonly string[]).includes(by.id) ? by.id as FleetSort : 'attention';
  const list = useCall('devices.list', { today, sort, desc: by?.desc ?? false, page, pageSize: DEVICES_PAGE }, { pollMs: 10_000 });
  useEvents((e) => {
    if (e.type === 'changed') void list.reload();
  });
  const deviceCount = list.data?.total ?? 0;
  // Fewer devices than the page shown (the list shrank, or "today" was switched): the last page that has some.
  useEffect(() => {
    if (list.data && page > 0 && page * DEVICES_PAGE >= list.data.total) setPage(Math.max(0, Math.ceil(list.data.total / DEVICES_PAGE) - 1));
  }, [list.data, page]);
  const [clockOf, setClockOf] = useState<string | null>(null);
  const here = list.data?.here;
  const columns = useMemo(() => [
    col.accessor('deviceId', {
      header: t('devices.colDevice'),
      cell: (c) => <Stack gap={0}><Text fw={600}>{c.getValue()}</Text>{c.row.original.role && <Text size="xs" c="dimmed">{t(`roles.${c.row.original.role}`)}</Text>}</Stack>,
    }),
    col.accessor((r) => r.flags.length, {
      id: 'flags', header: t('devices.colFlags'),
      cell: (c) => <Group gap={4}>{c.row.original.flags.map((fl) => <Badge key={fl} color={FLAG[fl].color} variant="filled" tt="none" h="auto" py={2} styles={{ label: { whiteSpace: 'normal', overflow: 'visible' } }} data-testid={`flag-${fl}`}>{t(FLAG[fl].label)}</Badge>)}</Group>,
    }),
    col.accessor((r) => r.owes ?? -1, { id: 'owes', header: t('devices.colOwes'), cell: (c) => c.row.original.owes === null ? t('devices.unknown') : <Text fw={c.row.original.owes ? 700 : 400} data-testid="owes">{f.number(c.row.original.owes)}</Text> }),
    col.accessor((r) => r.made ?? -1, { id: 'made', header: t('devices.colMade'), cell: (c) => c.row.original.made === null ? t('devices.unknown') : f.number(c.row.original.made) }),
    col.accessor('received', { header: t('devices.colReceived'), cell: (c) => f.number(c.getValue()) }),
    col.accessor('applied', { header: t('devices.colApplied'), cell: (c) => f.number(c.getValue()) }),
    col.accessor((r) => r.atCentral ?? -1, { id: 'atCentral', header: t('devices.colCentral'), cell: (c) => c.row.original.atCentral === null ? t('devices.unknown') : f.number(c.row.original.atCentral) }),
    col.accessor((r) => r.lastSeenAt ?? '', {
      id: 'lastSeen', header: t('devices.colLastSeen'),
      cell: (c) => c.row.original.lastSeenAt ? <Stack gap={0}><When iso={c.row.original.lastSeenAt} />{c.row.original.lastVia && VIA[c.row.original.lastVia] && <Text size="xs" c="dimmed">{t(VIA[c.row.original.lastVia]!)}</Text>}</Stack> : t('devices.never'),
    }),
    col.accessor((r) => r.appVersion ?? '', { id: 'version', header: t('devices.colVersion'), cell: (c) => c.row.original.appVersion ? `${c.row.original.appVersion} · ${c.row.original.schemaVersion ?? '?'}` : t('devices.unknown') }),
    col.accessor((r) => r.keyIds.length, {
      id: 'keys', header: t('devices.colKeys'),
      cell: (c) => c.row.original.appVersion === null ? t('devices.unknown') : here?.activeKeyId && c.row.original.keyIds.includes(here.activeKeyId) ? t('devices.keysCurrent') : t('devices.keysMissing'),
    }),
    col.accessor((r) => Math.abs(r.clockSkewMs ?? 0), {
      id: 'clock', header: t('devices.colClock'),
      cell: (c) => (
        <Stack gap={2} align="flex-start">
          <Text data-testid="clock">{clockText(t, c.row.original.clockSkewMs, here?.clockWarnMs ?? 600_000)}</Text>
          {c.row.original.clockSkewMs !== null && <Button size="compact-xs" variant="subtle" px={0} onClick={() => setClockOf(c.row.original.deviceId)}>{t('devices.clockHistory')}</Button>}
        </Stack>
      ),
    }),
  ], [t, f, here]);
  const table = useReactTable({
    data: list.data?.rows ?? [], columns, state: { sorting }, onSortingChange: (u) => { setSorting(u); setPage(0); },
    manualSorting: true, getCoreRowModel: getCoreRowModel(),
  });
  const owing = list.data?.owing ?? 0;
  const [pairing, setPairing] = useState(false);
  const mayPair = info.deviceRole === 'site' && info.permissions.includes(contract['devices.pairingCode'].permission);
  return (
    <Stack>
      <Group justify="space-between" align="flex-start">
        <Title order={2}>{t('devices.title')}</Title>
        {mayPair && <Button onClick={() => setPairing(true)} data-testid="pair-open">{t('devices.pairButton')}</Button>}
      </Group>
      <Text>{middleman ? t('devices.explainMiddleman') : t('devices.explainServer')}</Text>
      <Group>
        <Text fw={600} data-testid="devices-summary">{t('devices.summary', { owing })}</Text>
        <Switch label={t('devices.today')} checked={today} onChange={(e) => { setToday(e.currentTarget.checked); setPage(0); }} data-testid="devices-today" />
      </Group>
      {list.error && <Alert color="red">{list.error}</Alert>}
      <Table striped highlightOnHover data-testid="devices-table">
        <Table.Thead>{table.getHeaderGroups().map((hg) => (
          <Table.Tr key={hg.id}>{hg.headers.map((h) => {
            const dir = h.column.getIsSorted();
            return (
              <Table.Th key={h.id} aria-sort={dir === 'asc' ? 'ascending' : dir === 'desc' ? 'descending' : 'none'}>
                <UnstyledButton onClick={h.column.getToggleSortingHandler()} title={t('devices.sortHint')} data-testid={`sort-${h.id}`} fw={700} fz="sm">
                  {flexRender(h.column.columnDef.header, h.getContext())}{dir === 'asc' ? ' ▲' : dir === 'desc' ? ' ▼' : ''}
                </UnstyledButton>
              </Table.Th>
            );
          })}</Table.Tr>
        ))}</Table.Thead>
        <Table.Tbody>
          {table.getRowModel().rows.map((r) => (
            <Table.Tr key={r.id} data-testid="device-row" data-device={r.original.deviceId}>
              {r.getVisibleCells().map((c) => <Table.Td key={c.id}>{flexRender(c.column.columnDef.cell, c.getContext())}</Table.Td>)}
            </Table.Tr>
          ))}
          {list.data?.total === 0 && <Table.Tr><Table.Td colSpan={columns.length}><Text c="dimmed">{t('devices.nobody')}</Text></Table.Td></Table.Tr>}
        </Table.Tbody>
      </Table>
      {deviceCount > 0 && <Pager total={deviceCount} page={Math.min(page, Math.max(0, Math.ceil(deviceCount / DEVICES_PAGE) - 1))} pageSize={DEVICES_PAGE} onChange={setPage} testId="devices-pager" />}
      <Modal opened={pairing} onClose={() => setPairing(false)} title={t('devices.pairTitle')} size="lg">
        {pairing && <PairDevice />}
      </Modal>
      <Modal opened={clockOf !== null} onClose={() => setClockOf(null)} title={clockOf ? t('devices.historyTitle', { device: clockOf }) : ''} size="lg">
        {clockOf && <ClockHistory deviceId={clockOf} warnMs={here?.clockWarnMs ?? 600_000} />}
      </Modal>
    </Stack>
  );
}

function ClockHistory({ deviceId, warnMs }: { deviceId: string; warnMs: number }) {
  const t = useT();
  const history = useCall('devices.clock', { deviceId });
  return (
    <Stack>
      <Text size="sm">{t('devices.historyExplain')}</Text>
      {history.error && <Alert color="red">{history.error}</Alert>}
      {history.data?.readings.length === 0 && <Text c="dimmed">{t('devices.historyNone')}</Text>}
      <Table data-testid="clock-history">
        <Table.Thead><Table.Tr><Table.Th>{t('devices.colAt')}</Table.Th><Table.Th>{t('devices.colDifference')}</Table.Th><Table.Th>{t('devices.colVia')}</Table.Th></Table.Tr></Table.Thead>
        <Table.Tbody>
          {(history.data?.readings ?? []).map((r, i) => (
            <Table.Tr key={i}>
              <Table.Td><When iso={r.at} /></Table.Td>
              <Table.Td>{Math.abs(r.skewMs) > warnMs ? <Badge color="grape">{clockText(t, r.skewMs, warnMs)}</Badge> : clockText(t, r.skewMs, warnMs)}</Table.Td>
              <Table.Td>{VIA[r.via] ? t(VIA[r.via]!) : r.via}</Table.Td>
            </Table.Tr>
          ))}
        </Table.Tbody>
      </Table>
    </Stack>
  );
}

/** An administrator issues a pairing code bound to one device id and role; the code is shown large, once. */
function PairDevice() {
  const t = useT();
  const f = useFormat();
  const issue = useAction('devices.pairingCode');
  const [deviceId, setDeviceId] = useState('');
  const [role, setRole] = useState<'field' | 'middleman'>('field');
  const [replace, setReplace] = useState(false);
  const [code, setCode] = useState<CallOutput<'devices.pairingCode'> | null>(null);
  const onSubmit = (e: FormEvent) => {
    e.preventDefault();
    void issue.run({ deviceId: deviceId.trim(), role, replace }).then((r) => { if (r) setCode(r); });
  };
  if (code) {
    return (
      <Stack data-testid="pair-result">
        <Text fw={600}>{t('devices.pairCode', { device: code.deviceId, role: code.role })}</Text>
        <Code fz={32} ta="center" py="md" block data-testid="pair-code">{code.code}</Code>
        <Text>{t('devices.pairCodeHint', { time: f.dateTime(code.expiresAt) })}</Text>
        <Group><Button variant="light" onClick={() => { setCode(null); setDeviceId(''); setReplace(false); }} data-testid="pair-another">{t('devices.pairAnother')}</Button></Group>
      </Stack>
    );
  }
  return (
    <form onSubmit={onSubmit}>
      <Stack>
        <Text size="sm">{t('devices.pairExplain')}</Text>
        <TextInput label={t('devices.pairDeviceId')} value={deviceId} onChange={(e) => setDeviceId(e.currentTarget.value)} required data-autofocus data-testid="pair-device-id"
          error={issue.field === 'deviceId' ? issue.error : undefined} />
        <Select label={t('devices.pairRole')} value={role} onChange={(v) => v && setRole(v as 'field' | 'middleman')} allowDeselect={false}
          data={[{ value: 'field', label: t('devices.pairRoleField') }, { value: 'middleman', label: t('devices.pairRoleMiddleman') }]} data-testid="pair-role" />
        <Checkbox label={t('devices.pairReplace')} checked={replace} onChange={(e) => setReplace(e.currentTarget.checked)} data-testid="pair-replace" />
        {issue.field !== 'deviceId' && <ProblemAlert state={issue} testId="pair-error" />}
        <Group><Button type="submit" loading={issue.busy} data-testid="pair-issue">{t('devices.pairIssue')}</Button></Group>
      </Stack>
    </form>
  );
}
