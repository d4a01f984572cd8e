import { Alert, Button, Card, FileInput, Group, Select, SimpleGrid, Stack, Table, Text, TextInput, Title } from '@mantine/core';
import { useState } from 'react';
import { ROLES, SETTING_KEYS, type Role, type SettingKey } from '../../../shared/settings.ts';
import { useAction, useApp } from '../hooks.ts';
import { useT } from '../i18n.tsx';
import { CONFLICT_COLOR, LanguagePicker, ProblemAlert, OK_COLOR } from '../ui.tsx';

/** First-run setup (role, device id, keys, pairing) and the device's settings. */
export function DeviceScreen() {
  const { info, refreshInfo } = useApp();
  const t = useT();
  const setup = useAction('device.setup');
  const [role, setRole] = useState<Role>('field');
  const [deviceId, setDeviceId] = useState('');
  const [siteCode, setSiteCode] = useState('S01');
  const [keyFile, setKeyFile] = useState<File | null>(null);
  const [serverUrl, setServerUrl] = useState('');
  const [code, setCode] = useState('');
  const canConfigure = info.permissions.includes('configure');
  const run = async (input: Parameters<typeof setup.run>[0]) => {
    const r = await setup.run(input);
    if (r) await refreshInfo();
  };
  return (
    <Stack>
      <Title order={2}>{t('device.title')}</Title>
      <Card withBorder p="lg">
        <Title order={3} mb="sm">{t('device.languageTitle')}</Title>
        <LanguagePicker />
      </Card>
      {!canConfigure && <Alert>{t('device.onlyAdmin')}</Alert>}
      <ProblemAlert state={setup} />
      {setup.result && !setup.busy && <Alert color={OK_COLOR}>{t('device.doneSetup')} {setup.result.done.join('. ')}.</Alert>}
      {!info.initialised && canConfigure && (
        <Card withBorder p="lg">
          <Title order={3} mb="sm">{t('device.setupTitle')}</Title>
          <Group align="end">
            <Select label={t('device.role')} data={ROLES.map((r) => ({ value: r, label: t(`roles.${r}`) }))} value={role} onChange={(v) => setRole((v ?? 'field') as Role)} allowDeselect={false} />
            <TextInput label={t('device.deviceId')} description={t('device.deviceIdHint')} value={deviceId} onChange={(e) => setDeviceId(e.currentTarget.value)} />
            <TextInput label={t('device.siteCode')} value={siteCode} onChange={(e) => setSiteCode(e.currentTarget.value.toUpperCase())} />
            <Button onClick={() => void run({ role, deviceId, siteCode })} loading={setup.busy}>{t('device.setup')}</Button>
          </Group>
        </Card>
      )}
      {info.initialised && (
        <>
          <Card withBorder p="lg">
            <Title order={3} mb="sm">{t('device.keysTitle')}</Title>
            <Text mb="sm" data-testid="keys-state">{!info.hasKeys ? t('device.keysMissing') : info.keyScope === 'carrier' ? t('device.keysCarrier') : t('device.keysInstalled')}</Text>
            {info.deviceRole === 'middleman' && info.keyScope === 'full' && <Alert color={CONFLICT_COLOR} mb="sm" data-testid="keys-warning">{t('device.keysFullOnMiddleman')}</Alert>}
            {canConfigure && (
              <Group align="end">
                <FileInput label={t('device.keyFile')} placeholder={t('device.keyFilePlaceholder')} value={keyFile} onChange={setKeyFile} accept=".json,.keys,application/json" w={420} clearable />
                <Button onClick={async () => { if (keyFile) await run({ keySetJson: await keyFile.text() }); }} disabled={!keyFile} loading={setup.busy}>{t('device.importKeys')}</Button>
              </Group>
            )}
          </Card>
          {(info.deviceRole === 'field' || info.deviceRole === 'middleman') && (
            <Card withBorder p="lg">
              <Title order={3} mb="sm">{t('device.serverTitle')}</Title>
              <Text mb="sm">{info.paired ? t('device.paired') : t('device.notPaired')}</Text>
              {canConfigure && (
                <Group align="end">
                  <TextInput label={t('device.serverUrl')} placeholder="http://10.0.0.5:8080" value={serverUrl} onChange={(e) => setServerUrl(e.currentTarget.value)} w={320} />
                  <TextInput label={t('device.pairingCode')} value={code} onChange={(e) => setCode(e.currentTarget.value)} />
                  <Button onClick={() => void run({ server: { url: serverUrl, code } })} disabled={!serverUrl || !code} loading={setup.busy}>{t('device.pair')}</Button>
                </Group>
              )}
            </Card>
          )}
          {info.settings && <SettingsTable editable={canConfigure} />}
        </>
      )}
    </Stack>
  );
}

/** The settings shown in the table (role and device id are the device's identity, set up once). */
type ShownSetting = Exclude<SettingKey, 'role' | 'deviceId'>;
const isLabelled = (k: string): k is ShownSetting => k !== 'role' && k !== 'deviceId' && (SETTING_KEYS as readonly string[]).includes(k);

function SettingsTable({ editable }: { editable: boolean }) {
  const { info, refreshInfo } = useApp();
  const t = useT();
  const update = useAction('settings.update');
  const [edits, setEdits] = useState<Record<string, string>>({});
  const entries = Object.entries(info.settings ?? {}).filter(([k]) => k !== 'role' && k !== 'deviceId');
  return (
    <Card withBorder p="lg">
      <Title order={3} mb="sm">{t('device.settingsTitle')}</Title>
      <ProblemAlert state={update} mb="sm" />
      <Table>
        <Table.Tbody>
          {entries.map(([k, v]) => {
            const shown = typeof v === 'string' ? v : JSON.stringify(v);
            // The setting in words; its name (what `edc-sync config set` takes) under it.
            const label = isLabelled(k) ? t(`device.setting.${k}`) : k;
            return (
              <Table.Tr key={k}>
                <Table.Td w={300}><Text size="sm">{label}</Text>{label !== k && <Text ff="monospace" size="xs" c="dimmed">{k}</Text>}</Table.Td>
                <Table.Td>{editable ? <TextInput aria-label={label} value={edits[k] ?? shown} onChange={(e) => setEdits({ ...edits, [k]: e.currentTarget.value })} /> : shown}</Table.Td>
                <Table.Td w={100}>{editable && edits[k] !== undefined && edits[k] !== shown && (
                  <Button size="xs" loading={update.busy} onClick={async () => {
                    if (await update.run({ key: k, value: edits[k]! })) {
                      const { [k]: _done, ...rest } = edits;
                      setEdits(rest);
                      await refreshInfo();
                    }
                  }}>{t('common.save')}</Button>
                )}</Table.Td>
              </Table.Tr>
            );
          })}
        </Table.Tbody>
      </Table>
      <SimpleGrid cols={1} mt="sm"><Text size="sm" c="dimmed">{t('device.listsHint')}</Text></SimpleGrid>
    </Card>
  );
}
