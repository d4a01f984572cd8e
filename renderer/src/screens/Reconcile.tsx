import { Alert, Badge, Button, Group, Modal, Pagination, Paper, Select, Stack, Table, Tabs, Text, TextInput, Title } from '@mantine/core';
import { useCallback, useEffect, useMemo, useRef, useState, type ReactNode } from 'react';
import type { ExpectedSpecimen } from '../../../shared/contract.ts';
import { reconcile } from '../../../shared/reconcile.ts';
import { ScanBurst } from '../../../shared/scan-burst.ts';
import { classifyScan, MISSING_REASONS, UNEXPECTED_REASONS, type Reason, type ScanResult, type Scope } from '../../../shared/specimens.ts';
import { useAction, useApp, useCall } from '../hooks.ts';
import { useFormat, useT, type MessageKey, type TFunction } from '../i18n.tsx';
import { playScanSound, soundName } from '../sounds.ts';
import { CONFLICT_COLOR, OK_COLOR } from '../ui.tsx';
import { SinceDraw, useNow } from './since-draw.tsx';

const PAGE = 8;

const REASON_LABELS = {
  'not-collected': 'reconcile.reasonNotCollected',
  broken: 'reconcile.reasonBroken',
  'left-with-ra': 'reconcile.reasonLeftWithRa',
  'set-aside': 'reconcile.reasonSetAside',
  'other-hand-over': 'reconcile.reasonOtherHandOver',
  other: 'reconcile.reasonOther',
} as const satisfies Record<Reason['reason'], MessageKey>;

interface LastScan { code: string; result: ScanResult; why?: 'shape' | 'check' }

/** Start of today on this computer's clock, as UTC ISO: "today's tubes". */
const startOfToday = (): string => {
  const d = new Date();
  d.setHours(0, 0, 0, 0);
  return d.toISOString();
};

const scopeKey = (s: Scope | null): string | null => {
  if (!s) return null;
  switch (s.kind) {
    case 'pull': return `pull:${s.batchId ?? ''}`;
    case 'laptop': return `laptop:${s.producer}`;
    case 'driver': return `driver:${s.middleman}`;
  }
};
const scopeFromKey = (k: string): Scope => {
  const [kind, rest = ''] = [k.slice(0, k.indexOf(':')), k.slice(k.indexOf(':') + 1)];
  if (kind === 'pull') return { kind: 'pull', batchId: rest };
  if (kind === 'driver') return { kind: 'driver', middleman: rest };
  return { kind: 'laptop', producer: rest, since: startOfToday() };
};

const editable = (el: Element | null): el is HTMLInputElement | HTMLTextAreaElement =>
  (el instanceof HTMLInputElement && !el.readOnly && !el.disabled && ['text', 'search', ''].includes(el.type)) || (el instanceof HTMLTextAreaElement && !el.readOnly);

/** Puts a value into a React-controlled field the way typing would. */
function setFieldValue(el: HTMLInputElement | HTMLTextAreaElement, value: string): void {
  const proto = el instanceof HTMLInputElement ? HTMLInputElement.prototype : HTMLTextAreaElement.prototype;
  Object.getOwnPropertyDescriptor(proto, 'value')?.set?.call(el, value);
  el.dispatchEvent(new Event('input', { bubbles: true }));
}

/**
 * While a reconciliation is open, a scanner's code reaches the scan box whatever has focus: keys typed while focus
 * is on a button, a dropdown or the page go straight into the box; a fast burst ending in Enter typed into another
 * text field is taken back out of it and scanned. Focus returns to the box after clicks, choices and window switches.
 */
function useScanCapture(box: React.RefObject<HTMLInputElement | null>, onScan: (code: string) => void, active: boolean): void {
  const scan = useRef(onScan);
  scan.current = onScan;
  useEffect(() => {
    if (!active) return undefined;
    const burst = new ScanBurst();
    const refocus = () => setTimeout(() => {
      const a = document.activeElement;
      if (!editable(a) && !(a instanceof HTMLInputElement) && !document.querySelector('[role="dialog"]')) box.current?.focus();
    }, 0);
    const onKey = (e: KeyboardEvent) => {
      const t = e.target as Element | null;
      if (t === box.current || e.ctrlKey || e.metaKey || e.altKey || document.querySelector('[role="dialog"]')) return;
      if (editable(t)) {
        if (e.key.length === 1) burst.key(e.key, e.timeStamp, t, t.value);
        else if (e.key === 'Enter') {
          const code = burst.enter(e.timeStamp, t);
          if (code) {
            e.preventDefault();
            e.stopPropagation();
            setFieldValue(t, burst.valueBefore);
            scan.current(code);
            box.current?.focus();
          }
        } else burst.reset();
        return;
      }
      // Focus is on a button, a dropdown, a tab or the page: the key belongs in the scan box.
      if (e.key.length === 1 && e.key !== ' ') {
        e.preventDefault();
        e.stopPropagation();
        const b = box.current;
        if (!b) return;
        b.focus();
        setFieldValue(b, b.value + e.key);
      }
    };
    window.addEventListener('keydown', onKey, true);
    window.addEventListener('focus', refocus);
    document.addEventListener('click', refocus);
    return () => {
      window.removeEventListener('keydown', onKey, true);
      window.removeEventListener('focus', refocus);
      document.removeEventListener('click', refocus);
    };
  }, [active, box]);
}

/** The banner's tint (its background and edge) and its title's colour: shade 9, or the warning orange (ui.tsx). */
const BANNER = {
  matched: { tint: 'green', text: 'green.9', title: 'reconcile.bannerMatched' },
  duplicate: { tint: 'blue', text: 'blue.9', title: 'reconcile.bannerDuplicate' },
  unexpected: { tint: 'orange', text: CONFLICT_COLOR, title: 'reconcile.bannerUnexpected' },
  invalid: { tint: 'red', text: 'red.9', title: 'reconcile.bannerInvalid' },
} as const satisfies Record<ScanResult, { tint: string; text: string; title: MessageKey }>;

function scanDetail(t: TFunction, last: LastScan, describe: (c: string) => string): string {
  switch (last.result) {
    case 'invalid': return t(last.why === 'check' ? 'reconcile.detailCheck' : 'reconcile.detailShape', { code: last.code });
    case 'duplicate': return t('reconcile.detailDuplicate', { tube: describe(last.code) });
    case 'unexpected': return t('reconcile.detailUnexpected', { code: last.code });
    case 'matched': return describe(last.code);
  }
}

function ScanBanner({ last, describe }: { last: LastScan | null; describe: (c: string) => string }) {
  const t = useT();
  if (!last) return <Paper p="md" withBorder data-testid="scan-banner" data-result="none"><Text size="lg">{t('reconcile.bannerFirst')}</Text></Paper>;
  const b = BANNER[last.result];
  const detail = scanDetail(t, last, describe);
  return (
    <Paper p="md" radius="md" bg={`${b.tint}.1`} style={{ borderLeft: `12px solid var(--mantine-color-${b.tint}-8)` }} role="status" aria-live="assertive"
      data-testid="scan-banner" data-result={last.result} data-sound={soundName(last.result)}>
      <Text fz={28} fw={800} c={b.text}>{t(b.title)}</Text>
      <Text size="lg">{detail}</Text>
    </Paper>
  );
}

/** A paged, filterable list of tubes, oldest draw first. */
function TubeList({ codes, info, testId, now, limits, extra }: { codes: string[]; info: Map<string, ExpectedSpecimen>; testId: string; now: number; limits: Record<string, number>; extra?: (code: string) => ReactNode }) {
  const t = useT();
  const fmt = useFormat();
  const [filter, setFilter] = useState('');
  const [page, setPage] = useState(1);
  const f = filter.trim().toUpperCase();
  // A test is found by its code or by its words on screen.
  const shown = f ? codes.filter((c) => `${c} ${info.get(c)?.subjectIdentifier ?? ''} ${info.get(c)?.panel ?? ''} ${fmt.value('panel', info.get(c)?.panel)}`.toUpperCase().includes(f)) : codes;
  const pages = Math.max(1, Math.ceil(shown.length / PAGE));
  const at = Math.min(page, pages);
  return (
    <Stack gap="xs" data-testid={testId}>
      <Group justify="space-between">
        <TextInput size="xs" w={240} aria-label={t('reconcile.filterLabel')} placeholder={t('reconcile.filterHint')} value={filter} onChange={(e) => { setFilter(e.currentTarget.value); setPage(1); }} />
        <Text size="sm">{shown.length === codes.length ? t('reconcile.tubes', { n: codes.length }) : t('reconcile.tubesOf', { shown: shown.length, n: codes.length })}</Text>
      </Group>
      <Table striped withRowBorders={false} verticalSpacing={4}>
        <Table.Tbody>
          {shown.slice((at - 1) * PAGE, at * PAGE).map((c) => {
            const s = info.get(c);
            return (
              <Table.Tr key={c} data-testid="tube-row">
                <Table.Td ff="monospace">{c}</Table.Td>
                <Table.Td>{s ? `${s.subjectIdentifier ?? '?'} · ${fmt.value('panel', s.panel)} · ${fmt.value('specimenType', s.specimenType)}` : t('reconcile.notThisHandover')}</Table.Td>
                <Table.Td>{s && <SinceDraw drawn={s.drawnDatetime} now={now} limit={limits[s.panel] ?? null} />}</Table.Td>
                {extra && <Table.Td>{extra(c)}</Table.Td>}
              </Table.Tr>
            );
          })}
        </Table.Tbody>
      </Table>
      {pages > 1 && <Pagination size="sm" total={pages} value={at} onChange={setPage} getControlProps={(c) => ({ 'aria-label': t(({ first: 'common.firstPage', previous: 'common.previousPage', next: 'common.nextPage', last: 'common.lastPage' } as const)[c]) })} getItemProps={(p) => ({ 'aria-label': t('common.page', { n: p }) })} aria-label={t('common.pages')} />}
    </Stack>
  );
}

function ReasonPicker({ code, options, value, onChange }: { code: string; options: readonly Reason['reason'][]; value: Reason | undefined; onChange: (r: Reason | undefined) => void }) {
  const t = useT();
  return (
    <Group gap="xs" wrap="nowrap">
      <Select size="xs" w={220} aria-label={t('reconcile.reasonFor', { code })} placeholder={t('reconcile.chooseReason')} data={options.map((o) => ({ value: o, label: t(REASON_LABELS[o]) }))} value={value?.reason ?? null}
        onChange={(v) => onChange(v ? { reason: v as Reason['reason'], note: value?.note ?? '' } : undefined)} comboboxProps={{ withinPortal: true }} data-testid="reason-select" />
      {value?.reason === 'other' && <TextInput size="xs" aria-label={t('reconcile.whatHappenedTo', { code })} placeholder={t('reconcile.whatHappened')} value={value.note} onChange={(e) => onChange({ reason: 'other', note: e.currentTarget.value })} />}
    </Group>
  );
}

/**
 * Scan the physical tubes of one hand-over against what it should contain: on a middleman the pull (or a laptop's
 * tubes of today), at the site what a driver (or a laptop) delivered. A scanner types the code and presses Enter.
 */
export function ReconcileScreen() {
  const t = useT();
  const f = useFormat();
  const { info } = useApp();
  const isDriver = info.deviceRole === 'middleman';
  const [scope, setScope] = useState<Scope | null>(null);
  const expected = useCall('reconciliation.expected', scope ? { scope } : {});
  const settings = useCall('specimens.settings', {});
  const limits = settings.data?.stabilityMinutes ?? {};
  const [scanned, setScanned] = useState<string[]>([]);
  const [entry, setEntry] = useState('');
  const [last, setLast] = useState<LastScan | null>(null);
  const [tab, setTab] = useState<string | null>('missing');
  const [finishing, setFinishing] = useState(false);
  const [reasons, setReasons] = useState<Record<string, Reason>>({});
  const [location, setLocation] = useState(info.deviceId ?? '');
  const save = useAction('reconciliation.save');
  const box = useRef<HTMLInputElement>(null);
  const now = useNow();
  const specimens = useMemo(() => expected.data?.specimens ?? [], [expected.data]);
  const codes = useMemo(() => specimens.map((s) => s.requisitionIdentifier), [specimens]);
  const byCode = useMemo(() => new Map(specimens.map((s) => [s.requisitionIdentifier, s])), [specimens]);
  const live = reconcile(codes, scanned);
  const resolved = expected.data?.scope ?? null;
  const describe = useCallback((code: string) => {
    const s = byCode.get(code);
    return s ? `${code} — ${s.subjectIdentifier ?? '?'} · ${f.value('panel', s.panel)} · ${f.value('specimenType', s.specimenType)}` : code;
  }, [byCode, f]);

  const onScan = useCallback((raw: string) => {
    const r = classifyScan(raw, new Set(codes), new Set(scanned));
    setLast(r);
    playScanSound(r.result);
    if (r.result === 'matched' || r.result === 'unexpected') setScanned((prev) => [...prev, r.code]);
    setEntry('');
  }, [codes, scanned]);
  const open = resolved !== null && !finishing;
  useScanCapture(box, onScan, open);

  const choose = (key: string | null) => {
    setScope(key ? scopeFromKey(key) : null);
    setScanned([]);
    setLast(null);
    setReasons({});
    save.setError(null);
    setTimeout(() => box.current?.focus(), 0);
  };

  const options = [
    ...(expected.data?.pulls ?? []).map((p) => ({ value: `pull:${p.batchId}`, label: t('reconcile.optionPull', { producer: p.producer, when: f.dateTime(p.at), n: p.tubes }) })),
    ...(isDriver ? [] : (expected.data?.drivers ?? []).map((d) => ({ value: `driver:${d}`, label: t('reconcile.optionDriver', { driver: d }) }))),
    ...(expected.data?.producers ?? []).map((p) => ({ value: `laptop:${p}`, label: t('reconcile.optionLaptop', { producer: p }) })),
  ];
  const currentKey = resolved?.kind === 'pull' ? `pull:${resolved.batchId ?? ''}` : scopeKey(resolved);
  const needReason = [...live.missing, ...live.unexpected].filter((c) => !reasons[c] || (reasons[c].reason === 'other' && !reasons[c].note.trim()));
  const setReason = (c: string, r: Reason | undefined) => setReasons((prev) => {
    const next = { ...prev };
    if (r) next[c] = r;
    else delete next[c];
    return next;
  });

  const finish = async () => {
    if (!resolved) return;
    const kept = Object.fromEntries([...live.missing, ...live.unexpected].filter((c) => reasons[c]).map((c) => [c, reasons[c]!]));
    const r = await save.run({ scope: resolved, location: location || 'unknown', scanned, reasons: kept, missingConfirmed: live.missing.length });
    if (r) {
      setFinishing(false);
      setScanned([]);
      setReasons({});
      setLast(null);
      void expected.reload();
      setTimeout(() => box.current?.focus(), 0);
    }
  };

  return (
    <Stack gap="sm">
      <Paper withBorder p="xs" pos="sticky" top={60} style={{ zIndex: 5 }} data-testid="reconcile-bar">
        <Group justify="space-between" wrap="nowrap">
          <Group gap="sm" wrap="nowrap">
            <Title order={2} size="h3">{t('reconcile.title')}</Title>
            <Text fz={22} fw={800} data-testid="scanned-of">{t('reconcile.scannedOf', { matched: live.matched.length, total: codes.length })}</Text>
          </Group>
          <Button size="md" onClick={() => { save.setError(null); setFinishing(true); }} disabled={!resolved || (codes.length === 0 && scanned.length === 0)} data-testid="reconcile-finish">{t('reconcile.finish')}</Button>
        </Group>
      </Paper>
      <Group align="end" gap="sm">
        <Select label={t(isDriver ? 'reconcile.scopeDriver' : 'reconcile.scopeSite')} placeholder={t(isDriver ? 'reconcile.scopeNoPull' : 'reconcile.scopeChoose')} data={options} value={currentKey} onChange={choose}
          onDropdownClose={() => setTimeout(() => box.current?.focus(), 0)} allowDeselect={false} w={380} data-testid="scope-select" />
        <TextInput label={t('reconcile.location')} value={location} onChange={(e) => setLocation(e.currentTarget.value)} w={160} />
      </Group>
      {expected.error && <Alert color="red">{expected.error}</Alert>}
      {!resolved && !expected.loading && <Alert color="blue">{t(isDriver ? 'reconcile.firstPull' : 'reconcile.firstChoose')}</Alert>}
      <form onSubmit={(e) => { e.preventDefault(); if (entry.trim()) onScan(entry); }}>
        <TextInput ref={box} size="lg" label={t('reconcile.scanLabel')} value={entry} onChange={(e) => setEntry(e.currentTarget.value)}
          autoFocus data-testid="scan-box" autoComplete="off" disabled={!resolved} />
      </form>
      <ScanBanner last={last} describe={describe} />
      <Tabs value={tab} onChange={setTab} keepMounted={false}>
        <Tabs.List>
          <Tabs.Tab value="missing">{t('reconcile.tabMissing')} <Badge color="red" data-testid="missing-count">{live.missing.length}</Badge></Tabs.Tab>
          <Tabs.Tab value="matched">{t('reconcile.tabMatched')} <Badge color={OK_COLOR} data-testid="matched-count">{live.matched.length}</Badge></Tabs.Tab>
          <Tabs.Tab value="unexpected">{t('reconcile.tabUnexpected')} <Badge color={CONFLICT_COLOR} data-testid="unexpected-count">{live.unexpected.length}</Badge></Tabs.Tab>
        </Tabs.List>
        <Tabs.Panel value="missing" pt="xs"><TubeList codes={live.missing} info={byCode} testId="missing" now={now} limits={limits} /></Tabs.Panel>
        <Tabs.Panel value="matched" pt="xs"><TubeList codes={live.matched} info={byCode} testId="matched" now={now} limits={limits} /></Tabs.Panel>
        <Tabs.Panel value="unexpected" pt="xs"><TubeList codes={live.unexpected} info={byCode} testId="unexpected" now={now} limits={limits} /></Tabs.Panel>
      </Tabs>
      {save.result && !save.busy && (
        <Alert color={OK_COLOR} data-testid="reconcile-result">
          {t('reconcile.saved', { custody: save.result.custodyIdentifier, matched: save.result.matched.length, missing: save.result.missing.length, unexpected: save.result.unexpected.length })}
        </Alert>
      )}
      <Modal opened={finishing} onClose={() => setFinishing(false)} title={t('reconcile.finishTitle')} closeButtonProps={{ 'aria-label': t('common.close') }} size="xl" data-testid="finish-dialog">
        <Stack>
          <Text size="lg" data-testid="finish-summary">{t('reconcile.finishSummary', { matched: live.matched.length, missing: live.missing.length, unexpected: live.unexpected.length })}</Text>
          {needReason.length > 0 && <Text c="red.9" data-testid="finish-needs">{t('reconcile.needsReason', { n: needReason.length })}</Text>}
          {save.error && <Alert color="red" role="alert">{save.error}</Alert>}
          <Group justify="end" pos="sticky" top={0} bg="white" py={4} style={{ zIndex: 2 }}>
            <Button variant="default" onClick={() => setFinishing(false)}>{t('reconcile.backToScanning')}</Button>
            <Button color={live.missing.length ? CONFLICT_COLOR : 'teal'} disabled={needReason.length > 0} loading={save.busy} onClick={() => void finish()} data-testid="finish-confirm">
              {live.missing.length ? t('reconcile.saveWithMissing', { n: live.missing.length }) : t('reconcile.save')}
            </Button>
          </Group>
          {live.missing.length > 0 && (
            <Stack gap="xs">
              <Group justify="space-between">
                <Title order={4}>{t('reconcile.whyMissing')}</Title>
                <Select size="xs" w={260} aria-label={t('reconcile.reasonAllMissing')} placeholder={t('reconcile.sameReasonAll')} data={MISSING_REASONS.filter((r) => r !== 'other').map((o) => ({ value: o, label: t(REASON_LABELS[o]) }))} value={null}
                  onChange={(v) => v && setReasons((prev) => ({ ...prev, ...Object.fromEntries(live.missing.map((c) => [c, { reason: v as Reason['reason'], note: '' }])) }))} data-testid="reason-all-missing" />
              </Group>
              <TubeList codes={live.missing} info={byCode} testId="finish-missing" now={now} limits={limits} extra={(c) => <ReasonPicker code={c} options={MISSING_REASONS} value={reasons[c]} onChange={(r) => setReason(c, r)} />} />
            </Stack>
          )}
          {live.unexpected.length > 0 && (
            <Stack gap="xs">
              <Title order={4}>{t('reconcile.whatUnexpected')}</Title>
              <TubeList codes={live.unexpected} info={byCode} testId="finish-unexpected" now={now} limits={limits} extra={(c) => <ReasonPicker code={c} options={UNEXPECTED_REASONS} value={reasons[c]} onChange={(r) => setReason(c, r)} />} />
            </Stack>
          )}
        </Stack>
      </Modal>
    </Stack>
  );
}
