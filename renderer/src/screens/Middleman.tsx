import { Alert, Button, Card, Group, Progress, Select, Stack, Text, TextInput, Title } from '@mantine/core';
import { useEffect, useState } from 'react';
import type { ShareState } from '../../../shared/contract.ts';
import { useAction, useApp, useCall, useEvents, percent, useProgress } from '../hooks.ts';
import { useT, type MessageKey } from '../i18n.tsx';
import { WAIT_COLOR, OK_COLOR } from '../ui.tsx';

const CLOSED: Record<NonNullable<ShareState['closedReason']>, MessageKey> = {
  done: 'share.closedDone',
  idle: 'share.closedIdle',
  stopped: 'share.closedStopped',
  'too-many-attempts': 'share.closedAttempts',
};

/** Field laptop: open a short-lived share and show its address and code large enough to read across a table. */
export function ShareScreen() {
  const { info } = useApp();
  const t = useT();
  const initial = useCall('share.state', {});
  const [state, setState] = useState<ShareState | null>(null);
  const [host, setHost] = useState<string>(info.addresses[0] ?? '127.0.0.1');
  const start = useAction('share.start');
  const stop = useAction('share.stop');
  useEffect(() => {
    if (initial.data) setState(initial.data);
  }, [initial.data]);
  useEvents((e) => {
    if (e.type === 'share') setState(e.state);
  });
  const s = state;
  return (
    <Stack>
      <Title order={2}>{t('share.title')}</Title>
      <Text>{t('share.intro')}</Text>
      {!s?.active && (
        <Card withBorder p="lg">
          <Group align="end">
            <Select label={t('share.address')} data={info.addresses} value={host} onChange={(v) => setHost(v ?? host)} allowDeselect={false} w={260} />
            <Button size="xl" loading={start.busy} onClick={() => void start.run({ host, idleMinutes: 10 }).then((r) => r && setState(r))} data-testid="share-start">{t('share.start')}</Button>
          </Group>
          {start.error && <Alert color="red" mt="md" role="alert">{start.error}</Alert>}
        </Card>
      )}
      {s?.active && (
        <Card withBorder p="xl" data-testid="share-card">
          <Stack>
            <Text size="lg">{t('share.onDriver')}</Text>
            <Text className="big-url" data-testid="share-url">{s.url}</Text>
            <Text className="big-code" data-testid="share-code">{s.code}</Text>
            <Text>{s.middleman ? t('share.connected', { driver: s.middleman }) : t('share.waitingDriver')}</Text>
            {s.acknowledged > 0 && (
              <>
                <Progress value={percent({ done: s.acknowledged, total: s.acknowledged + s.waiting })} size="xl" aria-label={t('share.progressLabel')} />
                <Text size="lg" data-testid="share-progress">{t('share.takenOf', { done: s.acknowledged, total: s.acknowledged + s.waiting })}</Text>
              </>
            )}
            <Group><Button color="red" variant="outline" loading={stop.busy} onClick={() => void stop.run({})}>{t('share.stop')}</Button></Group>
          </Stack>
        </Card>
      )}
      {s && !s.active && s.closedReason && (
        <Alert color={s.closedReason === 'done' ? OK_COLOR : WAIT_COLOR} data-testid="share-result">
          {t(CLOSED[s.closedReason])} {t('share.wentToDriver', { n: s.acknowledged })} {t('share.stillWaiting', { n: s.waiting })}
        </Alert>
      )}
    </Stack>
  );
}

/** Middleman: pull from a laptop using the address and code it shows; live "2,000 of 5,591 taken". */
export function PullScreen() {
  const t = useT();
  const [url, setUrl] = useState('');
  const [code, setCode] = useState('');
  const pull = useAction('pull.run');
  const [progress, reset] = useProgress('pull.run');
  return (
    <Stack>
      <Title order={2}>{t('pull.title')}</Title>
      <Card withBorder p="lg">
        <form onSubmit={(e) => { e.preventDefault(); reset(); void pull.run({ url: url.trim(), code: code.trim() }); }}>
          <Stack>
            <TextInput label={t('pull.address')} placeholder="http://192.168.1.20:41234" value={url} onChange={(e) => setUrl(e.currentTarget.value)} autoFocus data-testid="pull-url" />
            <TextInput label={t('pull.code')} value={code} onChange={(e) => setCode(e.currentTarget.value)} data-testid="pull-code" />
            <Group><Button type="submit" size="xl" loading={pull.busy} disabled={!url || !code} data-testid="pull-start">{t('pull.start')}</Button></Group>
          </Stack>
        </form>
      </Card>
      {(pull.busy || progress) && <Progress value={pull.busy ? percent(progress) : 100} size="xl" striped={pull.busy} animated={pull.busy} aria-label={t('pull.progressLabel')} />}
      {pull.busy && progress && <Text size="lg" data-testid="pull-progress">{t(progress.phase === 'pull' ? 'pull.takenOf' : 'pull.applyingOf', { done: progress.done, total: progress.total })}</Text>}
      {pull.error && <Alert color="red" role="alert">{pull.error}</Alert>}
      {pull.result && !pull.busy && (
        <Alert color={OK_COLOR} data-testid="pull-result">
          {t('pull.result', { n: pull.result.received, producer: pull.result.producer, duplicates: pull.result.duplicates, applied: pull.result.consumed.applied, errors: pull.result.consumed.errors })}
        </Alert>
      )}
    </Stack>
  );
}
