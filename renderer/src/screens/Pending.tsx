import { Badge, Button, Group, Modal, Select, Stack, Table, Text, Title } from '@mantine/core';
import { createColumnHelper, flexRender, getCoreRowModel, useReactTable } from '@tanstack/react-table';
import { useEffect, useMemo, useRef, useState } from 'react';
import { PENDING_STATES, type PendingRow } from '../../../shared/contract.ts';
import { TX_NAMES } from '../../../shared/domain.ts';
import { useAction, useApp, useCall } from '../hooks.ts';
import { useFormat, useT, type MessageKey } from '../i18n.tsx';
import { modelLabel, Pager, ProblemAlert, WAIT_COLOR, OK_COLOR } from '../ui.tsx';
import { fieldLabel, isBookkeeping } from './Inspector.tsx';

const col = createColumnHelper<PendingRow>();
const STATE_LABEL: Record<PendingRow['state'], MessageKey> = { 'pending-middleman': 'pending.badgeWaiting', 'pending-server': 'pending.badgeWithMiddleman', delivered: 'pending.badgeDelivered' };
const PAGE = 25;
const HOP: Record<PendingRow['hop'], { label: MessageKey; color: string }> = {
  here: { label: 'status.hopHere', color: 'gray' }, middleman: { label: 'status.hopMiddleman', color: WAIT_COLOR },
  site: { label: 'status.hopSite', color: 'blue' }, central: { label: 'status.hopCentral', color: OK_COLOR },
};

export function PendingScreen() {
  const { info } = useApp();
  const t = useT();
  const f = useFormat();
  const [txName, setTxName] = useState<string | null>(null);
  const [source, setSource] = useState<'own' | 'forwarding'>('own');
  const forwards = info.deviceRole === 'middleman';
  const [state, setState] = useState<(typeof PENDING_STATES)[number]>('pending-server');
  const [page, setPage] = useState(0);
  const list = useCall('pending.list', { source, ...(txName ? { txName } : {}), state, page, pageSize: PAGE });
  const open = useAction('pending.open');
  const [openId, setOpenId] = useState<string | null>(null);
  // The change asked for last: one opened while another was still decrypting is asked for once that one is done, and
  // only the content of the one on screen is shown (never the one before it).
  const asked = useRef<string | null>(null);
  useEffect(() => {
    if (openId === null || open.busy || asked.current === openId) return;
    asked.current = openId;
    void open.run({ id: openId });
  }, [openId, open.busy, open.run]);
  const canDecrypt = info.permissions.includes('decrypt');
  const columns = useMemo(() => [
    col.accessor('producer', { header: t('pending.colFrom') }),
    col.accessor('producerSeq', { header: t('pending.colSeq') }),
    col.accessor('txName', { header: t('pending.colModel'), cell: (c) => modelLabel(t, c.getValue()) }),
    col.accessor('action', { header: t('pending.colChange'), cell: (c) => t(`actions.${c.getValue()}`) }),
    col.accessor('timestamp', { header: t('pending.colWhen'), cell: (c) => f.dateTime(c.getValue()) }),
    col.accessor('state', { header: t('pending.colState'), cell: (c) => <Badge color={c.getValue() === 'delivered' ? OK_COLOR : WAIT_COLOR}>{t(STATE_LABEL[c.getValue()])}</Badge> }),
    col.accessor('hop', { header: t('pending.colHop'), cell: (c) => <Badge variant="light" color={HOP[c.getValue()].color} data-testid="hop">{t(HOP[c.getValue()].label)}</Badge> }),
    col.accessor('keyId', { header: t('pending.colKey') }),
  ], [t, f]);
  const table = useReactTable({ data: list.data?.rows ?? [], columns, getCoreRowModel: getCoreRowModel(), manualPagination: true, rowCount: list.data?.total ?? 0 });
  return (
    <Stack>
      <Title order={2}>{t('pending.title')}</Title>
      <Group align="end">
        {forwards && (
          <Select label={t('pending.whose')} allowDeselect={false} value={source} onChange={(v) => { setSource((v ?? 'own') as typeof source); setPage(0); }}
            data={[{ value: 'own', label: t('pending.own') }, { value: 'forwarding', label: t('pending.forwarding') }]} data-testid="pending-source" />
        )}
        <Select label={t('pending.model')} placeholder={t('pending.allModels')} clearable data={TX_NAMES.map((n) => ({ value: n, label: modelLabel(t, n) }))} value={txName} onChange={(v) => { setTxName(v); setPage(0); }} />
        <Select label={t('pending.show')} allowDeselect={false} value={state} onChange={(v) => { setState((v ?? 'pending-server') as typeof state); setPage(0); }}
          data={[{ value: 'pending-server', label: t('pending.stateServer') }, ...(source === 'own' && !forwards ? [{ value: 'pending-middleman', label: t('pending.stateMiddleman') }] : []), { value: 'delivered', label: t('pending.stateDelivered') }, { value: 'all', label: t('pending.stateAll') }]} />
        <Text data-testid="pending-total">{t('pending.total', { n: list.data?.total ?? 0 })}</Text>
      </Group>
      <ProblemAlert state={list} />
      <Table striped highlightOnHover data-testid="pending-table">
        <Table.Thead>{table.getHeaderGroups().map((hg) => (
          <Table.Tr key={hg.id}>{hg.headers.map((h) => <Table.Th key={h.id}>{flexRender(h.column.columnDef.header, h.getContext())}</Table.Th>)}<Table.Th /></Table.Tr>
        ))}</Table.Thead>
        <Table.Tbody>{table.getRowModel().rows.map((r) => (
          <Table.Tr key={r.id}>
            {r.getVisibleCells().map((c) => <Table.Td key={c.id}>{flexRender(c.column.columnDef.cell, c.getContext())}</Table.Td>)}
            <Table.Td>{canDecrypt && <Button size="xs" variant="light" onClick={() => setOpenId(r.original.id)}>{t('common.open')}</Button>}</Table.Td>
          </Table.Tr>
        ))}</Table.Tbody>
      </Table>
      <Pager total={list.data?.total ?? 0} page={page} pageSize={PAGE} onChange={setPage} />
      <Modal opened={openId !== null} onClose={() => { setOpenId(null); asked.current = null; }} title={t('pending.contentTitle')} size="xl">
        {(open.busy || open.result?.row.id !== openId) && !open.error && <Text>{t('pending.decrypting')}</Text>}
        <ProblemAlert state={open} />
        {open.result && !open.busy && open.result.row.id === openId && <TxContent content={open.result.content} />}
      </Modal>
    </Stack>
  );
}

/**
 * The decrypted record as field / value rows in the users' words (the inspector's field labels), and who made the
 * change when (so the columns every record carries for that are left out, as in the inspector).
 */
function TxContent({ content }: { content: Record<string, unknown> }) {
  const t = useT();
  const f = useFormat();
  const record = (content.record ?? {}) as Record<string, unknown>;
  const history = (content.history ?? null) as { user?: string; hostname?: string; at?: string; reason?: string; changes?: Record<string, [unknown, unknown]> } | null;
  const hidden = new Set(Array.isArray(content.protected) ? (content.protected as string[]) : []);
  const entries = Object.entries(record).filter(([k]) => !isBookkeeping(k));
  const shown = (k: string, v: unknown) => f.value(k, v) || '—';
  const changed = Object.entries(history?.changes ?? {}).filter(([k]) => !isBookkeeping(k));
  return (
    <Stack data-testid="tx-content">
      {history && <Text size="sm">{t('pending.changedBy', { user: history.user ?? '?', host: history.hostname ?? '?', when: history.at ? f.dateTime(history.at) : '?' })}</Text>}
      {history?.reason && <Text size="sm" data-testid="tx-reason">{t('pending.reason', { reason: history.reason })}</Text>}
      {hidden.size > 0 && <Text size="sm" c="dimmed" data-testid="protected-note">{t('pending.protectedNote')}</Text>}
      {changed.length > 0 && (
        <Table withTableBorder data-testid="tx-changes" aria-label={t('pending.changesTitle')}>
          <Table.Thead><Table.Tr><Table.Th>{t('pending.colField')}</Table.Th><Table.Th>{t('pending.colBefore')}</Table.Th><Table.Th>{t('pending.colAfter')}</Table.Th></Table.Tr></Table.Thead>
          <Table.Tbody>
            {changed.map(([k, [before, after]]) => (
              <Table.Tr key={k}><Table.Td>{fieldLabel(t, k)}</Table.Td>{hidden.has(k)
                  ? <><Table.Td data-testid="protected">{t('pending.protected')}</Table.Td><Table.Td data-testid="protected">{t('pending.protected')}</Table.Td></>
                  : <><Table.Td>{shown(k, before)}</Table.Td><Table.Td>{shown(k, after)}</Table.Td></>}</Table.Tr>
            ))}
          </Table.Tbody>
        </Table>
      )}
      {entries.length === 0 ? <Text>{t('pending.deleteNoFields')}</Text> : (
        <Table withTableBorder striped>
          <Table.Tbody>
            {entries.map(([k, v]) => (
              <Table.Tr key={k}><Table.Td w={200}>{fieldLabel(t, k)}</Table.Td>{hidden.has(k)
                ? <Table.Td data-testid="protected"><Text size="sm" fs="italic" c="dimmed">{t('pending.protected')}</Text></Table.Td>
                : <Table.Td>{shown(k, v)}</Table.Td>}</Table.Tr>
            ))}
          </Table.Tbody>
        </Table>
      )}
    </Stack>
  );
}
