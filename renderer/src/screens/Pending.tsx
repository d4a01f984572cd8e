import { Alert, Badge, Button, Code, Group, Modal, Pagination, Select, Stack, Table, Text, Title } from '@mantine/core';
import { createColumnHelper, flexRender, getCoreRowModel, useReactTable } from '@tanstack/react-table';
import { useMemo, useState } from 'react';
import { PENDING_STATES, type PendingRow } from '../../../shared/contract.ts';
import { TX_NAMES } from '../../../shared/domain.ts';
import { useAction, useApp, useCall } from '../hooks.ts';

const col = createColumnHelper<PendingRow>();
const STATE_LABEL: Record<PendingRow['state'], string> = { 'pending-middleman': 'waiting', 'pending-server': 'with middleman', delivered: 'delivered' };
const PAGE = 25;

export function PendingScreen() {
  const { info } = useApp();
  const [txName, setTxName] = useState<string | null>(null);
  const [source, setSource] = useState<'own' | 'forwarding'>('own');
  const forwards = info.deviceRole === 'middleman';
  const [state, setState] = useState<(typeof PENDING_STATES)[number]>('pending-server');
  const [page, setPage] = useState(0);
  const list = useCall('pending.list', { source, ...(txName ? { txName } : {}), state, page, pageSize: PAGE });
  const open = useAction('pending.open');
  const [openId, setOpenId] = useState<string | null>(null);
  const canDecrypt = info.permissions.includes('decrypt');
  const columns = useMemo(() => [
    col.accessor('producer', { header: 'From' }),
    col.accessor('producerSeq', { header: '#' }),
    col.accessor('txName', { header: 'Model', cell: (c) => c.getValue().replace('edc.', '') }),
    col.accessor('action', { header: 'Change', cell: (c) => ({ I: 'new', U: 'changed', D: 'deleted' })[c.getValue()] }),
    col.accessor('timestamp', { header: 'When', cell: (c) => new Date(c.getValue()).toLocaleString() }),
    col.accessor('state', { header: 'State', cell: (c) => <Badge color={c.getValue() === 'delivered' ? 'green' : 'yellow'}>{STATE_LABEL[c.getValue()]}</Badge> }),
    col.accessor('keyId', { header: 'Key' }),
  ], []);
  const table = useReactTable({ data: list.data?.rows ?? [], columns, getCoreRowModel: getCoreRowModel(), manualPagination: true, rowCount: list.data?.total ?? 0 });
  const pages = Math.max(1, Math.ceil((list.data?.total ?? 0) / PAGE));
  return (
    <Stack>
      <Title order={2}>Pending transactions</Title>
      <Group align="end">
        {forwards && (
          <Select label="Whose" allowDeselect={false} value={source} onChange={(v) => { setSource((v ?? 'own') as typeof source); setPage(0); }}
            data={[{ value: 'own', label: 'this device\'s' }, { value: 'forwarding', label: 'pulled from laptops' }]} data-testid="pending-source" />
        )}
        <Select label="Model" placeholder="all models" clearable data={TX_NAMES.map((t) => ({ value: t, label: t.replace('edc.', '') }))} value={txName} onChange={(v) => { setTxName(v); setPage(0); }} />
        <Select label="Show" allowDeselect={false} value={state} onChange={(v) => { setState((v ?? 'pending-server') as typeof state); setPage(0); }}
          data={[{ value: 'pending-server', label: 'waiting for the server' }, ...(source === 'own' && !forwards ? [{ value: 'pending-middleman', label: 'not yet with a middleman' }] : []), { value: 'delivered', label: 'delivered' }, { value: 'all', label: 'all' }]} />
        <Text data-testid="pending-total">{list.data?.total ?? 0} transaction(s)</Text>
      </Group>
      {list.error && <Alert color="red">{list.error}</Alert>}
      <Table striped highlightOnHover data-testid="pending-table">
        <Table.Thead>{table.getHeaderGroups().map((hg) => (
          <Table.Tr key={hg.id}>{hg.headers.map((h) => <Table.Th key={h.id}>{flexRender(h.column.columnDef.header, h.getContext())}</Table.Th>)}<Table.Th /></Table.Tr>
        ))}</Table.Thead>
        <Table.Tbody>{table.getRowModel().rows.map((r) => (
          <Table.Tr key={r.id}>
            {r.getVisibleCells().map((c) => <Table.Td key={c.id}>{flexRender(c.column.columnDef.cell, c.getContext())}</Table.Td>)}
            <Table.Td>{canDecrypt && <Button size="xs" variant="light" onClick={() => { setOpenId(r.original.id); void open.run({ id: r.original.id }); }}>Open</Button>}</Table.Td>
          </Table.Tr>
        ))}</Table.Tbody>
      </Table>
      <Pagination total={pages} value={page + 1} onChange={(p) => setPage(p - 1)} aria-label="Pages"
        getControlProps={(control) => ({ 'aria-label': { first: 'First page', previous: 'Previous page', next: 'Next page', last: 'Last page' }[control] })}
        getItemProps={(p) => ({ 'aria-label': `Page ${p}` })} />
      <Modal opened={openId !== null} onClose={() => setOpenId(null)} title="Transaction content (decrypted)" size="xl">
        {open.busy && <Text>Decrypting…</Text>}
        {open.error && <Alert color="red">{open.error}</Alert>}
        {open.result && !open.busy && <TxContent content={open.result.content} />}
      </Modal>
    </Stack>
  );
}

/** The decrypted record as field / value rows, and who made the change when. */
function TxContent({ content }: { content: Record<string, unknown> }) {
  const record = (content.record ?? {}) as Record<string, unknown>;
  const history = (content.history ?? null) as { user?: string; hostname?: string; at?: string } | null;
  const entries = Object.entries(record);
  return (
    <Stack data-testid="tx-content">
      {history && <Text size="sm">Changed by {history.user ?? '?'} on {history.hostname ?? '?'}, {history.at ? new Date(history.at).toLocaleString() : '?'}</Text>}
      {entries.length === 0 ? <Text>A delete: the record carries no fields.</Text> : (
        <Table withTableBorder striped>
          <Table.Tbody>
            {entries.map(([k, v]) => (
              <Table.Tr key={k}><Table.Td w={200}><Code>{k}</Code></Table.Td><Table.Td>{v === null ? '—' : typeof v === 'string' ? v : JSON.stringify(v)}</Table.Td></Table.Tr>
            ))}
          </Table.Tbody>
        </Table>
      )}
    </Stack>
  );
}
