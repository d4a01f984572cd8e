import { Alert, Badge, Button, Card, Group, Progress, Stack, Table, Text, Title } from '@mantine/core';
import { useState } from 'react';
import { useAction, useCall, percent, useProgress } from '../hooks.ts';
import { useT, type MessageKey } from '../i18n.tsx';
import { useProgressText, WAIT_COLOR, When, Pager, ProblemAlert, OK_COLOR } from '../ui.tsx';

const COLOR = { pending: 'gray', written: WAIT_COLOR, sent: 'blue', acknowledged: OK_COLOR } as const;
/** What each state means to the person sending: a receipt from the receiver is what makes a batch delivered. */
const LABEL = { pending: 'files.stPending', written: 'files.stWritten', sent: 'files.stSent', acknowledged: 'files.stAcknowledged' } as const satisfies Record<string, MessageKey>;

export function FilesScreen() {
  const t = useT();
  const progressText = useProgressText();
  const [page, setPage] = useState(0);
  const pageSize = 25;
  const overview = useCall('files.overview', { page, pageSize });
  const send = useAction('files.send');
  const resend = useAction('files.resend');
  const [progress, reset] = useProgress('files.send');
  const o = overview.data;
  return (
    <Stack>
      <Title order={2}>{t('files.title')}</Title>
      <ProblemAlert state={overview} />
      {o && (
        <Card withBorder p="lg">
          <Stack>
            <Text size="lg" data-testid="files-pending">{t('files.notInFile', { n: o.pendingTransactions })}</Text>
            <Text c="dimmed">{o.configured ? t('files.target', { target: o.target ?? '' }) : t('files.notSetUp')}</Text>
            <Group><Button size="xl" disabled={!o.configured} loading={send.busy} onClick={async () => { reset(); await send.run({}); void overview.reload(); }} data-testid="files-send">{t('files.send')}</Button></Group>
            {(send.busy || progress) && <Progress value={send.busy ? percent(progress) : 100} size="xl" striped={send.busy} animated={send.busy} aria-label={t('files.sendProgress')} />}
            {send.busy && progress && <Text>{progressText(progress)}</Text>}
            {send.result && !send.busy && <Alert color={OK_COLOR} data-testid="files-result">{t('files.sent', { sent: send.result.sent, transactions: send.result.transactions, receipts: send.result.receipts })}</Alert>}
            <ProblemAlert state={send} />
            {resend.result && <Alert color="blue" data-testid="files-resent">{t('files.resent', { n: resend.result.batchSeq, count: resend.result.count })}</Alert>}
            <ProblemAlert state={resend} />
          </Stack>
        </Card>
      )}
      <Title order={3}>{t('files.history')}</Title>
      <Text size="sm" c="dimmed">{t('files.resendHint')}</Text>
      <Table striped>
        <Table.Thead><Table.Tr><Table.Th>{t('files.colBatch')}</Table.Th><Table.Th>{t('files.colFile')}</Table.Th><Table.Th>{t('files.colCount')}</Table.Th><Table.Th>{t('files.colState')}</Table.Th><Table.Th>{t('files.colSent')}</Table.Th><Table.Th>{t('files.colReceipt')}</Table.Th></Table.Tr></Table.Thead>
        <Table.Tbody>
          {(o?.batches ?? []).map((b) => (
            <Table.Tr key={b.batchId}>
              <Table.Td>{b.batchSeq}</Table.Td><Table.Td><Text size="sm" ff="monospace">{b.fileName}</Text></Table.Td><Table.Td>{b.count}</Table.Td>
              <Table.Td><Badge color={COLOR[b.status]} data-testid="file-state">{t(LABEL[b.status])}</Badge></Table.Td>
              <Table.Td>{b.sentAt ? <When iso={b.sentAt} /> : '—'}</Table.Td>
              <Table.Td>
                {b.acknowledgedAt ? <>{t('files.stAcknowledged')} <When iso={b.acknowledgedAt} /></> : (
                  <Group gap="xs">
                    {t('files.waiting')}
                    {b.status === 'sent' && (
                      <Button size="compact-sm" variant="light" loading={resend.busy} aria-label={t('files.resendLabel', { n: b.batchSeq })} data-testid="file-resend"
                        onClick={async () => { await resend.run({ batchId: b.batchId }); void overview.reload(); }}>{t('files.resend')}</Button>
                    )}
                  </Group>
                )}
              </Table.Td>
            </Table.Tr>
          ))}
          {o?.batches.length === 0 && <Table.Tr><Table.Td colSpan={6}><Text c="dimmed">{t('files.noFiles')}</Text></Table.Td></Table.Tr>}
        </Table.Tbody>
      </Table>
      {o && o.totalBatches > 0 && <Pager total={o.totalBatches} page={page} pageSize={pageSize} onChange={setPage} testId="files-pager" />}
    </Stack>
  );
}
