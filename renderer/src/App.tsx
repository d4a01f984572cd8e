import { Alert, AppShell, Badge, Burger, Button, Center, Group, Loader, NavLink, Stack, Text, Title } from '@mantine/core';
import { useDisclosure } from '@mantine/hooks';
import { useCallback, useEffect, useMemo, useState, type ReactNode } from 'react';
import type { CallName } from '../../shared/channels.ts';
import { contract, type ApiClient, type AppInfo } from '../../shared/contract.ts';
import type { Role } from '../../shared/settings.ts';
import { desktopBridge, desktopClient, describeError, webClient, type WebSession } from './api.ts';
import { AppContext } from './hooks.ts';
import { useT, type MessageKey } from './i18n.tsx';
import { LanguagePicker } from './ui.tsx';
import { BatchesScreen } from './screens/Batches.tsx';
import { ConflictsScreen } from './screens/Conflicts.tsx';
import { CustodyScreen } from './screens/Custody.tsx';
import { DataEntryScreen } from './screens/DataEntry.tsx';
import { DeviceScreen } from './screens/Device.tsx';
import { DevicesScreen } from './screens/Devices.tsx';
import { FilesScreen } from './screens/Files.tsx';
import { LoginScreen } from './screens/Login.tsx';
import { PendingScreen } from './screens/Pending.tsx';
import { PullScreen, ShareScreen } from './screens/Middleman.tsx';
import { ReconcileScreen } from './screens/Reconcile.tsx';
import { StatusScreen } from './screens/Status.tsx';
import { TimeToLabScreen } from './screens/TimeToLab.tsx';

interface ScreenDef {
  id: string;
  label: MessageKey;
  /** Device roles that have the screen. */
  roles: readonly Role[];
  /** The call the screen cannot do without: its permission decides whether the user sees it. */
  call: CallName;
  render: () => ReactNode;
}

const SCREENS: ScreenDef[] = [
  { id: 'status', label: 'nav.status', roles: ['field', 'middleman', 'site', 'central'], call: 'status.get', render: () => <StatusScreen /> },
  { id: 'entry', label: 'nav.entry', roles: ['field'], call: 'subjects.search', render: () => <DataEntryScreen /> },
  { id: 'pending', label: 'nav.pending', roles: ['field', 'middleman'], call: 'pending.list', render: () => <PendingScreen /> },
  { id: 'share', label: 'nav.share', roles: ['field'], call: 'share.start', render: () => <ShareScreen /> },
  { id: 'pull', label: 'nav.pull', roles: ['middleman'], call: 'pull.run', render: () => <PullScreen /> },
  { id: 'reconcile', label: 'nav.reconcile', roles: ['middleman', 'site'], call: 'reconciliation.expected', render: () => <ReconcileScreen /> },
  { id: 'custody', label: 'nav.custody', roles: ['middleman', 'site', 'central'], call: 'custody.chain', render: () => <CustodyScreen /> },
  { id: 'time-to-lab', label: 'nav.timeToLab', roles: ['site'], call: 'specimens.timeToLab', render: () => <TimeToLabScreen /> },
  { id: 'files', label: 'nav.files', roles: ['field', 'middleman', 'site'], call: 'files.overview', render: () => <FilesScreen /> },
  { id: 'batches', label: 'nav.batches', roles: ['site', 'central'], call: 'batches.list', render: () => <BatchesScreen /> },
  { id: 'devices', label: 'nav.devices', roles: ['middleman', 'site', 'central'], call: 'devices.list', render: () => <DevicesScreen /> },
  { id: 'conflicts', label: 'nav.conflicts', roles: ['middleman', 'site', 'central'], call: 'conflicts.list', render: () => <ConflictsScreen /> },
  { id: 'device', label: 'nav.device', roles: ['field', 'middleman', 'site', 'central'], call: 'device.setup', render: () => <DeviceScreen /> },
];

function visibleScreens(info: AppInfo): ScreenDef[] {
  return SCREENS.filter((s) => info.deviceRole !== null && s.roles.includes(info.deviceRole) && info.permissions.includes(contract[s.call].permission));
}

const screenFromHash = (): string => window.location.hash.replace(/^#\/?/, '') || 'status';

export function App() {
  const bridge = desktopBridge();
  const [session, setSession] = useState<WebSession | null | 'unknown'>(bridge ? null : 'unknown');
  const web = useMemo(() => (bridge ? null : webClient(() => setSession(null))), [bridge]);
  const api: ApiClient = useMemo(() => (bridge ? desktopClient(bridge) : web!), [bridge, web]);

  useEffect(() => {
    if (web) void web.session().then(setSession);
  }, [web]);

  if (web && session === 'unknown') return <Center h="100vh"><Loader /></Center>;
  if (web && session === null) return <LoginScreen onLogin={async (u, p) => setSession(await web.login(u, p))} />;
  return <Shell api={api} onLogout={web ? async () => { await web.logout(); setSession(null); } : null} />;
}

function Shell({ api, onLogout }: { api: ApiClient; onLogout: (() => Promise<void>) | null }) {
  const [info, setInfo] = useState<AppInfo | null>(null);
  const [error, setError] = useState<string | null>(null);
  const [screen, setScreen] = useState(screenFromHash);
  const [opened, { toggle }] = useDisclosure();
  const t = useT();
  const refreshInfo = useCallback(async () => {
    try {
      setInfo(await api.call('app.info', {}));
      setError(null);
    } catch (e) {
      setError(describeError(e));
    }
  }, [api]);
  useEffect(() => {
    void refreshInfo();
    const onHash = () => setScreen(screenFromHash());
    window.addEventListener('hashchange', onHash);
    return () => window.removeEventListener('hashchange', onHash);
  }, [refreshInfo]);

  if (error) return <Center h="100vh"><Alert color="red" title={t('common.cannotStart')}>{error}<Button mt="md" onClick={() => void refreshInfo()}>{t('common.retry')}</Button></Alert></Center>;
  if (!info) return <Center h="100vh"><Loader /></Center>;

  const screens = visibleScreens(info);
  const current = info.initialised ? screens.find((s) => s.id === screen) ?? screens[0] : undefined;
  return (
    <AppContext.Provider value={{ api, info, refreshInfo }}>
      <AppShell header={{ height: 60 }} navbar={{ width: 260, breakpoint: 'sm', collapsed: { mobile: !opened } }} padding="md">
        <AppShell.Header>
          <Group h="100%" px="md" justify="space-between">
            <Group>
              <Burger opened={opened} onClick={toggle} hiddenFrom="sm" size="sm" aria-label={t('common.menu')} />
              <Title order={3}>{t('common.appName')}</Title>
              {info.deviceRole && <Badge size="lg" variant="outline">{t(`roles.${info.deviceRole}`)}</Badge>}
              {info.deviceId && <Text c="dimmed" data-testid="device-id">{info.deviceId}</Text>}
            </Group>
            <Group>
              <LanguagePicker compact />
              <Text size="sm" data-testid="user">{info.user.username}{info.user.role ? ` · ${t(`userRoles.${info.user.role}`)}` : ''}</Text>
              {onLogout && <Button variant="subtle" onClick={() => void onLogout()}>{t('common.logOut')}</Button>}
            </Group>
          </Group>
        </AppShell.Header>
        <AppShell.Navbar p="sm" aria-label={t('nav.label')}>
          <Stack gap={4}>
            {screens.map((s) => (
              <NavLink key={s.id} href={`#/${s.id}`} label={t(s.label)} variant="filled" active={current?.id === s.id} aria-current={current?.id === s.id ? 'page' : undefined} />
            ))}
          </Stack>
        </AppShell.Navbar>
        <AppShell.Main>
          {info.initialised ? current?.render() ?? <Alert>{t('common.noScreens')}</Alert> : <DeviceScreen />}
        </AppShell.Main>
      </AppShell>
    </AppContext.Provider>
  );
}

