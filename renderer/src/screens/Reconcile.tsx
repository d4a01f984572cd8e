import { Alert, Badge, Button, Card, Group, List, Select, SimpleGrid, Stack, Text, TextInput, Title } from '@mantine/core';
import { useMemo, useRef, useState } from 'react';
import { barcodeSchema } from '../../../shared/contract.ts';
import { reconcile } from '../../../shared/reconcile.ts';
import { useAction, useApp, useCall } from '../hooks.ts';

/**
 * Scan the physical specimens against the requisitions on this device. A scanner types the barcode and presses
 * Enter; the box keeps focus, so a whole tray can be scanned without touching the mouse.
 */
export function ReconcileScreen() {
  const { info } = useApp();
  const [producer, setProducer] = useState<string | null>(null);
  const expected = useCall('reconciliation.expected', producer ? { producer } : {});
  const [scanned, setScanned] = useState<string[]>([]);
  const [entry, setEntry] = useState('');
  const [entryError, setEntryError] = useState<string | null>(null);
  const [location, setLocation] = useState(info.deviceId ?? '');
  const save = useAction('reconciliation.save');
  const box = useRef<HTMLInputElement>(null);
  const codes = useMemo(() => (expected.data?.specimens ?? []).map((s) => s.requisitionIdentifier), [expected.data]);
  const live = reconcile(codes, scanned);
  const bySpecimen = new Map((expected.data?.specimens ?? []).map((s) => [s.requisitionIdentifier, s]));
  const describe = (code: string) => {
    const s = bySpecimen.get(code);
    return s ? `${code} — ${s.subjectIdentifier ?? '?'} · ${s.panel}` : code;
  };
  const scan = () => {
    const parsed = barcodeSchema.safeParse(entry);
    if (!parsed.success) {
      setEntryError(`"${entry}" is not a requisition barcode (${parsed.error.issues[0]?.message}). Scan again.`);
    } else {
      setEntryError(null);
      setScanned((prev) => (prev.includes(parsed.data) ? prev : [...prev, parsed.data]));
    }
    setEntry('');
    box.current?.focus();
  };
  const finish = async () => {
    const r = await save.run({ ...(producer ? { producer } : {}), location: location || 'unknown', scanned });
    if (r) {
      setScanned([]);
      void expected.reload();
    }
  };
  return (
    <Stack>
      <Title order={2}>Specimen reconciliation</Title>
      <Group align="end">
        <Select label="Specimens from" placeholder="all laptops" clearable data={expected.data?.producers ?? []} value={producer} onChange={(v) => { setProducer(v); setScanned([]); }} />
        <TextInput label="Location" value={location} onChange={(e) => setLocation(e.currentTarget.value)} />
        <Text>{codes.length} specimen(s) expected</Text>
      </Group>
      {expected.error && <Alert color="red">{expected.error}</Alert>}
      <Card withBorder p="lg">
        <form onSubmit={(e) => { e.preventDefault(); scan(); }}>
          <TextInput ref={box} size="xl" label="Scan a barcode (or type it and press Enter)" value={entry} onChange={(e) => setEntry(e.currentTarget.value)} autoFocus data-testid="scan-box" autoComplete="off" />
        </form>
        {entryError && <Alert color="orange" mt="sm" role="alert">{entryError}</Alert>}
      </Card>
      <SimpleGrid cols={{ base: 1, md: 3 }}>
        <Card withBorder data-testid="matched"><Group><Title order={4}>Matched</Title><Badge color="green" size="lg" data-testid="matched-count">{live.matched.length}</Badge></Group>
          <List>{live.matched.map((c) => <List.Item key={c}>{describe(c)}</List.Item>)}</List></Card>
        <Card withBorder data-testid="missing"><Group><Title order={4}>Missing</Title><Badge color="red" size="lg" data-testid="missing-count">{live.missing.length}</Badge></Group>
          <List>{live.missing.map((c) => <List.Item key={c}>{describe(c)}</List.Item>)}</List></Card>
        <Card withBorder data-testid="unexpected"><Group><Title order={4}>Unexpected</Title><Badge color="orange" size="lg" data-testid="unexpected-count">{live.unexpected.length}</Badge></Group>
          <List>{live.unexpected.map((c) => <List.Item key={c}>{c}</List.Item>)}</List></Card>
      </SimpleGrid>
      <Group>
        <Button size="lg" onClick={() => void finish()} loading={save.busy} disabled={codes.length === 0 && scanned.length === 0} data-testid="reconcile-finish">Finish and save</Button>
        <Button variant="subtle" onClick={() => setScanned([])} disabled={scanned.length === 0}>Start over</Button>
      </Group>
      {save.error && <Alert color="red" role="alert">{save.error}</Alert>}
      {save.result && !save.busy && (
        <Alert color="green" data-testid="reconcile-result">
          Saved reconciliation {save.result.reconciliationIdentifier}: {save.result.matched.length} matched, {save.result.missing.length} missing, {save.result.unexpected.length} unexpected. It goes to the site with the next Sync.
        </Alert>
      )}
    </Stack>
  );
}
