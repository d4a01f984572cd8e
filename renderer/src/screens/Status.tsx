import { Alert, Badge, Button, Card, Group, Progress, SimpleGrid, Stack, Table, Text, Title } from '@mantine/core';
import { useCallback, useEffect, useRef, useState, type ReactNode } from 'react';
import type { CallOutput } from '../../../shared/contract.ts';
import type { Status } from '../../../shared/status.ts';
import { ApiError, describeError } from '../api.ts';
import { useApp, useCall, useEvents, percent, useProgress } from '../hooks.ts';
import { useFormat, useT } from '../i18n.tsx';
import { CONFLICT_COLOR, FileWaits, modelLabel, ProducerWaits, useProgressText, WAIT_COLOR, When, ProblemAlert, OK_COLOR } from '../ui.tsx';

function Count({ label, value, testId }: { label: string; value: ReactNode; testId?: string }) {
  return (
    <Card withBorder>
      <Text size="sm" c="dimmed">{label}</Text>
      <Text fz={typeof value === 'number' || typeof value === 'string' ? 32 : 24} fw={700} data-testid={testId}>{value}</Text>
    </Card>
  );
}

/**
 * What this device holds and where it is on its way, in one screen: counts with one sentence saying what they mean,
 * the server (checked when the screen opens and when Sync starts and ends), and the Sync button with its outcome.
 */
export function StatusScreen() {
  const { info } = useApp();
  const t = useT();
  const f = useFormat();
  const status = useCall('status.get', {}, { pollMs: 5000 });
  const sender = info.deviceRole === 'field' || info.deviceRole === 'middleman';
  const [serverCheck, setServerCheck] = useState(0);
  useEvents((e) => {
    if (e.type === 'changed') void status.reload();
  });
  const s = status.data;
  const waiting = s ? s.outgoing.pendingServer + s.incoming.awaitingForward : 0;
  return (
    <Stack>
      <Title order={2}>{t('status.title')}</Title>
      <ProblemAlert state={status} />
      <Group>
        {info.deviceRole && <Badge size="xl">{t(`roles.${info.deviceRole}`)}</Badge>}
        <Text fw={600}>{info.deviceId}</Text>
        <Text c="dimmed">{t('status.version', { version: info.version })}</Text>
      </Group>
      {sender && <ServerLine recheck={serverCheck} />}
      {s?.keysWarning && <Alert color={CONFLICT_COLOR} data-testid="status-keys-warning">{t('device.keysFullOnMiddleman')}</Alert>}
      {s && (
        <>
          <SimpleGrid cols={{ base: 2, md: 4 }}>
            {sender && <Count label={t('status.waitingServer')} value={f.number(waiting)} testId="pending-server" />}
            {info.deviceRole === 'site' && <Count label={t('status.notAtCentral')} value={f.number(s.incoming.awaitingForward)} testId="awaiting-forward" />}
            {info.deviceRole === 'field' && <Count label={t('status.notWithMiddleman')} value={f.number(s.outgoing.pendingMiddleman)} testId="pending-middleman" />}
            {info.deviceRole !== 'field' && <Count label={t('status.received')} value={f.number(s.incoming.total)} testId="incoming-total" />}
            {info.deviceRole !== 'field' && <Count label={t('status.consumed')} value={f.number(s.incoming.consumed)} testId="incoming-consumed" />}
            {info.deviceRole !== 'field' && <Count label={t('status.errors')} value={f.number(s.incoming.error)} testId="incoming-error" />}
            <Count label={t('status.lastSync')} value={<When iso={s.lastSync} />} testId="last-sync" />
          </SimpleGrid>
          <Text data-testid="status-explain">{explain(t, info.deviceRole, waiting)}</Text>
          {sender && (
            <Card withBorder data-testid="hops">
              <Title order={4} mb="xs">{t('status.hopsTitle')}</Title>
              <SimpleGrid cols={{ base: 2, md: 4 }}>
                <Count label={t('status.hopHere')} value={f.number(s.outgoing.hops.here)} testId="hop-here" />
                <Count label={t('status.hopMiddleman')} value={f.number(s.outgoing.hops.middleman)} testId="hop-middleman" />
                <Count label={t('status.hopSite')} value={f.number(s.outgoing.hops.site)} testId="hop-site" />
                <Count label={t('status.hopCentral')} value={f.number(s.outgoing.hops.central)} testId="hop-central" />
              </SimpleGrid>
              <Text size="sm" mt="xs">{t('status.hopsExplain')}</Text>
            </Card>
          )}
          {s.incoming.conflicts > 0 && (
            <Alert color={CONFLICT_COLOR} title={t('status.conflictsTitle')} data-testid="conflicts-alert">
              {t('status.conflicts', { n: s.incoming.conflicts })} <a href="#/conflicts">{t('status.conflictsLink')}</a>
            </Alert>
          )}
          <FileWaits batchGaps={s.incoming.batchGaps} unmatchedFiles={s.incoming.unmatchedFiles} />
          <ProducerWaits waits={s.incoming.producerWaits} />
          {s.incoming.gaps.length > 0 && (
            <Alert color={WAIT_COLOR} title={t('status.gapsTitle')}>
              {t('status.gapsText', { list: s.incoming.gaps.map((g) => t(g.to > g.from ? 'status.gap' : 'status.gapOne', { from: g.from, to: g.to, producer: g.producer })).join('; ') })}
            </Alert>
          )}
          <Card withBorder>
            <Title order={4} mb="xs">{t('status.recordsTitle')}</Title>
            <Table data-testid="records">
              <Table.Tbody>
                {Object.entries(s.records).map(([k, v]) => (
                  <Table.Tr key={k}><Table.Td>{modelLabel(t, k)}</Table.Td><Table.Td data-testid={`records-${k}`}>{f.number(v)}</Table.Td></Table.Tr>
                ))}
              </Table.Tbody>
            </Table>
          </Card>
        </>
      )}
      {sender && <SyncPanel waiting={waiting} onStart={() => setServerCheck((n) => n + 1)} onDone={() => { setServerCheck((n) => n + 1); void status.reload(); }} />}
    </Stack>
  );
}

function explain(t: ReturnType<typeof useT>, role: Status['role'] | null, waiting: number): string {
  switch (role) {
    case 'field': return t('status.explainField', { pending: waiting });
    case 'middleman': return t('status.explainMiddleman', { pending: waiting });
    case 'site': return t('status.explainSite');
    case 'central': return t('status.explainCentral');
    case null: return '';
  }
}

type Check = CallOutput<'server.check'>;

/** Reachable or not, checked when the screen opens and each time `recheck` changes (Sync starts and ends); never polled. */
function ServerLine({ recheck }: { recheck: number }) {
  const { api } = useApp();
  const t = useT();
  const [check, setCheck] = useState<Check | null>(null);
  const [checking, setChecking] = useState(true);
  const seq = useRef(0);
  const run = useCallback(async () => {
    const mine = ++seq.current;
    setChecking(true);
    try {
      const c = await api.call('server.check', {});
      if (mine === seq.current) setCheck(c);
    } catch {
      // the Sync result says what failed; keep the last answer
    } finally {
      if (mine === seq.current) setChecking(false);
    }
  }, [api]);
  useEffect(() => {
    void run();
  }, [run, recheck]);
  if (checking) return <Group><Badge color="gray" size="lg" data-testid="server-state">{t('status.serverChecking')}</Badge></Group>;
  if (!check) return null;
  const color = check.reachable ? OK_COLOR : check.configured ? 'red' : 'gray';
  return (
    <Stack gap={2}>
      <Group>
        <Badge color={color} size="lg" data-testid="server-state">
          {check.reachable ? t('status.serverReachable') : check.configured ? t('status.serverUnreachable') : t('status.notPaired')}
        </Badge>
        {check.checkedAt && <Text size="sm" c="dimmed">{t('status.serverCheckedAt')} <When iso={check.checkedAt} /></Text>}
      </Group>
      {!check.reachable && <Text size="sm" data-testid="server-advice">{check.configured ? t(`errors.${check.code ?? 'SERVER_UNREACHABLE'}`) : t('status.notPairedText')}</Text>}
      {!check.reachable && check.configured && <Text size="xs" c="dimmed" data-testid="server-details" data-details>{t('common.details', { details: `${check.code ?? ''} · ${check.message}` })}</Text>}
    </Stack>
  );
}

type SyncOutcome = { ok: true; value: CallOutput<'sync.run'> } | { ok: false; error: unknown };

/** The one big button: progress while it runs; afterwards green with what reached the server, or red with what failed and that nothing was lost. */
function SyncPanel({ waiting, onStart, onDone }: { waiting: number; onStart: () => void; onDone: () => void }) {
  const { api } = useApp();
  const t = useT();
  const progressText = useProgressText();
  const [progress, resetProgress] = useProgress('sync.run');
  const [busy, setBusy] = useState(false);
  const [outcome, setOutcome] = useState<SyncOutcome | null>(null);
  const press = async () => {
    resetProgress();
    setOutcome(null);
    setBusy(true);
    onStart();
    try {
      setOutcome({ ok: true, value: await api.call('sync.run', {}) });
    } catch (e) {
      setOutcome({ ok: false, error: e });
    } finally {
      setBusy(false);
      onDone();
    }
  };
  const failed = outcome?.ok === false;
  const value = busy ? percent(progress) : failed ? Math.max(percent(progress), 4) : 100;
  return (
    <Card withBorder p="lg">
      <Stack>
        <Button size="xl" h={80} fz={28} onClick={() => void press()} loading={busy} data-testid="sync-button">{t('status.sync')}</Button>
        {(busy || outcome) && (
          <Progress value={value} color={failed ? 'red' : outcome?.ok && outcome.value.rejected ? CONFLICT_COLOR : undefined} size="xl" striped={busy} animated={busy}
            aria-label={t('status.syncProgress')} data-testid="sync-progress" data-state={busy ? 'running' : failed ? 'failed' : 'done'} />
        )}
        {busy && <Text data-testid="sync-phase">{progress ? progressText(progress) : t('status.syncing')}</Text>}
        {outcome?.ok && !busy && (
          <Alert color={outcome.value.rejected ? CONFLICT_COLOR : OK_COLOR} data-testid="sync-result">
            {t('status.syncDone', { accepted: outcome.value.accepted })}
            {outcome.value.duplicates > 0 && <> {t('status.syncDuplicates', { n: outcome.value.duplicates })}</>}
            {outcome.value.rejected > 0 ? <> {t('status.syncRejected', { n: outcome.value.rejected })}</> : <> {t('status.syncAllDone')}</>}
          </Alert>
        )}
        {outcome && !outcome.ok && !busy && (
          <Alert color="red" role="alert" title={t('status.syncFailedTitle')} data-testid="sync-error">
            <Text>{failureSentence(t, outcome.error)}</Text>
            <Text fw={600} data-testid="sync-kept">{t('status.syncKept', { n: waiting })}</Text>
            <Text size="xs" c="dimmed" data-details>{t('common.details', { details: outcome.error instanceof ApiError ? `${outcome.error.code} · ${outcome.error.message}` : describeError(outcome.error) })}</Text>
          </Alert>
        )}
      </Stack>
    </Card>
  );
}

function failureSentence(t: ReturnType<typeof useT>, e: unknown): string {
  return e instanceof ApiError ? t(`errors.${e.code}`) : t('errors.INTERNAL');
}
