import { Alert, Badge, Button, Group, List, Stack, Table, Text, TextInput, Title } from '@mantine/core';
import { useState, type FormEvent } from 'react';
import type { ChainFlag, ChainStep, TubeChain, Verdict } from '../../../shared/custody.ts';
import { useAction, useCall, useEvents } from '../hooks.ts';
import { useFormat, useT, type MessageKey, type TFunction } from '../i18n.tsx';
import { CONFLICT_COLOR, Pager, ProblemAlert, WAIT_COLOR, OK_COLOR } from '../ui.tsx';

const VERDICT: Record<Verdict, { label: MessageKey; color: string }> = {
  valid: { label: 'custody.sigValid', color: OK_COLOR }, // dark enough on its light tint (Mantine green: 3.9:1)
  invalid: { label: 'custody.sigInvalid', color: 'red' },
  unsigned: { label: 'custody.sigUnsigned', color: 'gray' },
};
const FLAG: Record<ChainFlag, MessageKey> = {
  'bad-signature': 'custody.flagBadSignature',
  hole: 'custody.flagHole',
  unsigned: 'custody.flagUnsigned',
  missing: 'custody.flagMissing',
};
const PAGE = 25;

const REASON: Record<string, MessageKey> = {
  'not-collected': 'custody.reasonNotCollected', broken: 'custody.reasonBroken', 'left-with-ra': 'custody.reasonLeftWithRa',
  'set-aside': 'custody.reasonSetAside', 'other-hand-over': 'custody.reasonOtherHandOver', other: 'custody.reasonOther',
};

function reasonText(t: TFunction, s: ChainStep): string {
  if (!s.reason) return '';
  const label = t(REASON[s.reason.reason] ?? 'custody.reasonOther');
  return s.reason.note ? `${label} (${s.reason.note})` : label;
}

/** Where a hole is: the device that passed the tube on without a record of taking it in. */
function holeAt(c: TubeChain): string {
  return c.steps.find((s) => s.hole)?.from ?? '';
}

/**
 * The chain of custody: scan or type a tube label to see who held it when (both devices' clocks and signatures at
 * each hand-over), and the tubes whose chain needs a look (a record changed after signing, a missing hand-over).
 */
export function CustodyScreen() {
  const t = useT();
  const [code, setCode] = useState('');
  const lookup = useAction('custody.chain');
  const [page, setPage] = useState(0);
  const flagged = useCall('custody.flagged', { page, pageSize: PAGE }, { pollMs: 30_000 });
  useEvents((e) => {
    if (e.type === 'changed') void flagged.reload();
  });
  const show = (tube: string) => {
    setCode(tube);
    void lookup.run({ tube });
  };
  const onSubmit = (e: FormEvent) => {
    e.preventDefault();
    if (code.trim()) show(code.trim());
  };
  const chain = lookup.result?.chain ?? null;
  return (
    <Stack>
      <Title order={2}>{t('custody.title')}</Title>
      <Text>{t('custody.explain')}</Text>
      <form onSubmit={onSubmit}>
        <Group align="flex-end">
          <TextInput label={t('custody.scanLabel')} value={code} onChange={(e) => setCode(e.currentTarget.value)} w={320} autoFocus data-testid="custody-tube" />
          <Button type="submit" loading={lookup.busy} data-testid="custody-show">{t('custody.show')}</Button>
        </Group>
      </form>
      <ProblemAlert state={lookup} testId="custody-error" />
      {chain && <Chain chain={chain} />}

      <Title order={3} mt="md">{t('custody.flaggedTitle')}</Title>
      <ProblemAlert state={flagged} />
      {flagged.data && (flagged.data.total === 0
        ? <Alert color={OK_COLOR} data-testid="custody-flagged-none">{t('custody.flaggedNone')}</Alert>
        : (
          <>
            <Text fw={600} data-testid="custody-flagged-count">{t('custody.flaggedCount', { n: flagged.data.total, records: flagged.data.records })}</Text>
            <Table striped data-testid="custody-flagged">
              <Table.Thead><Table.Tr><Table.Th>{t('custody.colTube')}</Table.Th><Table.Th>{t('custody.colProblem')}</Table.Th><Table.Th>{t('custody.colHolder')}</Table.Th><Table.Th /></Table.Tr></Table.Thead>
              <Table.Tbody>
                {flagged.data.rows.map((c) => (
                  <Table.Tr key={c.tube} data-testid="custody-flagged-row" data-tube={c.tube}>
                    <Table.Td><Text ff="monospace">{c.tube}</Text></Table.Td>
                    <Table.Td>{c.flags.filter((f) => f === 'bad-signature' || f === 'hole').map((f) => <Text key={f} size="sm" c={f === 'bad-signature' ? 'red.9' : CONFLICT_COLOR}>{t(FLAG[f], { device: holeAt(c) })}</Text>)}</Table.Td>
                    <Table.Td>{c.holder ?? ''}</Table.Td>
                    <Table.Td><Button size="compact-sm" variant="light" onClick={() => show(c.tube)} aria-label={`${t('custody.open')} ${c.tube}`}>{t('custody.open')}</Button></Table.Td>
                  </Table.Tr>
                ))}
              </Table.Tbody>
            </Table>
            <Pager total={flagged.data.total} page={page} pageSize={PAGE} onChange={setPage} testId="custody-pager" />
          </>
        ))}
    </Stack>
  );
}

function Chain({ chain }: { chain: TubeChain }) {
  const t = useT();
  const f = useFormat();
  const known = chain.drawnBy !== null || chain.steps.length > 0;
  if (!known) return <Alert color={WAIT_COLOR} data-testid="custody-unknown">{t('custody.notFound', { tube: chain.tube })}</Alert>;
  const at = (iso: string) => f.dateTime(iso);
  return (
    <Stack gap="xs" data-testid="custody-chain" data-tube={chain.tube}>
      <Title order={3}><Text span ff="monospace" inherit>{chain.tube}</Text></Title>
      {chain.flags.length === 0
        ? <Alert color={OK_COLOR} data-testid="custody-verified">{t('custody.verified')}</Alert>
        : chain.flags.map((fl) => (
          <Alert key={fl} color={fl === 'bad-signature' ? 'red' : fl === 'hole' ? CONFLICT_COLOR : WAIT_COLOR} data-testid={`custody-flag-${fl}`}>{t(FLAG[fl], { device: holeAt(chain) })}</Alert>
        ))}
      <List spacing="sm" data-testid="custody-steps">
        <List.Item>{chain.drawnBy && chain.drawnAt ? t('custody.drawn', { at: at(chain.drawnAt), device: chain.drawnBy }) : t('custody.drawnUnknown')}</List.Item>
        {chain.steps.map((s) => (
          <List.Item key={`${s.custodyIdentifier}-${s.outcome}`} data-testid="custody-step" data-outcome={s.outcome}>
            <Stack gap={2}>
              <Text fw={600}>
                {s.outcome === 'missing'
                  ? t('custody.outcomeMissing', { to: s.to, reason: reasonText(t, s) })
                  : t('custody.step', { kind: s.kind, from: s.from, to: s.to })}
              </Text>
              {s.outcome === 'unexpected' && <Text size="sm">{t('custody.outcomeUnexpected', { to: s.to, reason: reasonText(t, s) })}</Text>}
              <Text size="sm">{t('custody.handedAt', { at: at(s.handedAt), from: s.from })} · {t('custody.receivedAt', { at: at(s.receivedAt), to: s.to })}</Text>
              <Group gap="xs">
                <Text size="sm">{t('custody.giver')}:</Text><Badge color={VERDICT[s.handover].color} variant="light" tt="none">{t(VERDICT[s.handover].label)}</Badge>
                <Text size="sm">{t('custody.receiver')}:</Text><Badge color={VERDICT[s.receipt].color} variant="light" tt="none">{t(VERDICT[s.receipt].label)}</Badge>
              </Group>
            </Stack>
          </List.Item>
        ))}
      </List>
      {chain.holder && <Text data-testid="custody-holder">{t('custody.holder', { device: chain.holder })}</Text>}
    </Stack>
  );
}
