/**
 * Site: time to lab per local day of the draw and per laptop (median and worst draw-to-receipt, tubes past their
 * stability limit), as accessible SVG bar charts with the same numbers in tables, and a CSV download.
 */
import { Button, Card, Group, Stack, Table, Text, TextInput, Title } from '@mantine/core';
import { useId, useState } from 'react';
import { parseIsoDate } from '../../../shared/local-time.ts';
import { formatDuration } from '../../../shared/specimens.ts';
import { timeToLabCsv, timeToLabFileName, timeToLabInputSchema, type TimeToLab, type TimeToLabGroup } from '../../../shared/time-to-lab.ts';
import { useCall } from '../hooks.ts';
import { useFormat, useT } from '../i18n.tsx';
import { CONFLICT_COLOR, ProblemAlert } from '../ui.tsx';

/** An axis tick: "30 min", "2 h". */
const tickLabel = (m: number): string => (m >= 60 && m % 60 === 0 ? `${m / 60} h` : formatDuration(m));

interface Bar { label: string; median: number; worst: number; tubes: number }

const MEDIAN = '#087f5b'; // teal 9: 5:1 on white
const WORST = CONFLICT_COLOR; // the warning orange (ui.tsx)

/** A grouped bar chart (median and worst per label), minutes on the y axis; its numbers are in the table beside it. */
function BarChart({ title, bars, testId }: { title: string; bars: Bar[]; testId: string }) {
  const t = useT();
  const titleId = useId();
  const descId = useId();
  const top = Math.max(60, ...bars.map((b) => b.worst));
  const step = top <= 120 ? 30 : top <= 360 ? 60 : top <= 720 ? 120 : Math.ceil(top / 6 / 60) * 60;
  const max = Math.ceil(top / step) * step;
  const left = 64;
  const slot = 64;
  const h = 180;
  const w = left + bars.length * slot + 8;
  const y = (m: number) => 10 + h - (m / max) * h;
  const ticks = Array.from({ length: max / step + 1 }, (_, i) => i * step);
  return (
    <svg viewBox={`0 0 ${w} ${h + 52}`} width={w} height={h + 52} style={{ maxWidth: '100%', height: 'auto', display: 'block' }} role="img" aria-labelledby={`${titleId} ${descId}`} data-testid={testId}>
      <title id={titleId}>{title}</title>
      <desc id={descId}>{bars.map((b) => t('specimens.chartBar', { label: b.label, median: formatDuration(b.median), worst: formatDuration(b.worst), n: b.tubes })).join('; ')}</desc>
      {ticks.map((m) => (
        <g key={m} aria-hidden="true">
          <line x1={left} x2={w - 4} y1={y(m)} y2={y(m)} stroke="#ced4da" strokeWidth={1} />
          <text x={left - 6} y={y(m) + 4} textAnchor="end" fontSize={12} fill="#212529">{tickLabel(m)}</text>
        </g>
      ))}
      {bars.map((b, i) => {
        const x = left + i * slot + 8;
        return (
          <g key={b.label} data-testid={`${testId}-bar`} data-label={b.label} data-median={b.median} data-worst={b.worst}>
            <rect x={x} y={y(b.median)} width={18} height={Math.max(1, y(0) - y(b.median))} fill={MEDIAN} />
            <rect x={x + 20} y={y(b.worst)} width={18} height={Math.max(1, y(0) - y(b.worst))} fill={WORST} />
            <text x={x + 19} y={h + 26} textAnchor="middle" fontSize={12} fill="#212529" aria-hidden="true">{b.label}</text>
          </g>
        );
      })}
      <g aria-hidden="true">
        <rect x={left} y={h + 36} width={10} height={10} fill={MEDIAN} />
        <text x={left + 14} y={h + 45} fontSize={12} fill="#212529">{t('specimens.legendMedian')}</text>
        <rect x={left + 80} y={h + 36} width={10} height={10} fill={WORST} />
        <text x={left + 94} y={h + 45} fontSize={12} fill="#212529">{t('specimens.legendWorst')}</text>
      </g>
    </svg>
  );
}

function GroupTable({ first, rows, testId }: { first: string; rows: (TimeToLabGroup & { key: string; label: string })[]; testId: string }) {
  const t = useT();
  return (
    <Table striped data-testid={testId}>
      <Table.Thead><Table.Tr><Table.Th>{first}</Table.Th><Table.Th>{t('specimens.colTubes')}</Table.Th><Table.Th>{t('specimens.colMedian')}</Table.Th><Table.Th>{t('specimens.colWorst')}</Table.Th><Table.Th>{t('specimens.colWorstTube')}</Table.Th><Table.Th>{t('specimens.colOverLimit')}</Table.Th></Table.Tr></Table.Thead>
      <Table.Tbody>{rows.map((g) => (
        <Table.Tr key={g.key} data-testid={`${testId}-row`}>
          <Table.Td>{g.label}</Table.Td><Table.Td>{g.tubes}</Table.Td><Table.Td>{formatDuration(g.medianMinutes)}</Table.Td><Table.Td>{formatDuration(g.worstMinutes)}</Table.Td><Table.Td>{g.worstTube}</Table.Td><Table.Td>{g.overLimit}</Table.Td>
        </Table.Tr>
      ))}</Table.Tbody>
    </Table>
  );
}

/** Saves the summary as CSV (the same rows as `edc-sync specimens time-to-lab --csv`). */
function download(s: TimeToLab): void {
  const url = URL.createObjectURL(new Blob([timeToLabCsv(s)], { type: 'text/csv;charset=utf-8' }));
  const a = document.createElement('a');
  a.href = url;
  a.download = timeToLabFileName(s);
  document.body.appendChild(a);
  a.click();
  a.remove();
  setTimeout(() => URL.revokeObjectURL(url), 10_000);
}

export function TimeToLabScreen() {
  const t = useT();
  const f = useFormat();
  const [range, setRange] = useState<{ from?: string; to?: string }>({});
  const summary = useCall('specimens.timeToLab', range);
  const s = summary.data;
  const [from, setFrom] = useState<string | null>(null);
  const [to, setTo] = useState<string | null>(null);
  const [rangeError, setRangeError] = useState<string | null>(null);
  // A local date of the site (YYYY-MM-DD) as a label: formatted as that calendar day, whatever this browser's zone.
  const [dayLabel, dayFull] = [f.dayMonth, f.date];
  const shownFrom = from ?? s?.from ?? '';
  const shownTo = to ?? s?.to ?? '';
  const apply = () => {
    const a = parseIsoDate(shownFrom);
    const b = parseIsoDate(shownTo);
    const input = a && b ? timeToLabInputSchema.safeParse({ from: a, to: b }) : null;
    if (!input?.success) {
      setRangeError(t('specimens.rangeInvalid'));
      return;
    }
    setRangeError(null);
    setRange(input.data);
  };
  return (
    <Stack>
      <Title order={2}>{t('specimens.ttlTitle')}</Title>
      <Text>{t('specimens.ttlExplain', { zone: s?.timeZone ?? '…' })}</Text>
      <Card withBorder>
        <form onSubmit={(e) => { e.preventDefault(); apply(); }} aria-label={t('specimens.ttlTitle')}>
          <Group align="end">
            <TextInput label={t('specimens.ttlFrom')} description={t('specimens.ttlDateHint')} value={shownFrom} onChange={(e) => setFrom(e.currentTarget.value)} error={rangeError ?? undefined} autoComplete="off" w={200} data-testid="ttl-from" />
            <TextInput label={t('specimens.ttlTo')} description={t('specimens.ttlDateHint')} value={shownTo} onChange={(e) => setTo(e.currentTarget.value)} autoComplete="off" w={200} data-testid="ttl-to" />
            <Button type="submit" data-testid="ttl-show">{t('specimens.ttlShow')}</Button>
            <Button variant="outline" disabled={!s?.overall} onClick={() => s && download(s)} data-testid="ttl-download">{t('specimens.ttlDownload')}</Button>
          </Group>
        </form>
      </Card>
      <ProblemAlert state={summary} />
      {s && !s.overall && <Text data-testid="ttl-none">{t('specimens.ttlNone')}</Text>}
      {s?.overall && (
        <>
          <Text fw={600} data-testid="ttl-overall">
            {t('specimens.ttlTubes', { n: s.overall.tubes })} · {t('specimens.ttlMedian', { duration: formatDuration(s.overall.medianMinutes) })} · {t('specimens.ttlWorst', { duration: formatDuration(s.overall.worstMinutes), tube: s.overall.worstTube })} · {t('specimens.ttlOverLimit', { n: s.overall.overLimit })}
          </Text>
          <Card withBorder>
            <Title order={3} mb="sm">{t('specimens.ttlPerDay')}</Title>
            <BarChart title={t('specimens.chartDays')} testId="ttl-chart-days" bars={s.days.map((d) => ({ label: dayLabel(d.day), median: d.medianMinutes, worst: d.worstMinutes, tubes: d.tubes }))} />
            <GroupTable first={t('specimens.colDay')} testId="ttl-days" rows={s.days.map((d) => ({ ...d, key: d.day, label: dayFull(d.day) }))} />
          </Card>
          <Card withBorder>
            <Title order={3} mb="sm">{t('specimens.ttlPerLaptop')}</Title>
            <BarChart title={t('specimens.chartLaptops')} testId="ttl-chart-laptops" bars={s.laptops.map((l) => ({ label: l.producer, median: l.medianMinutes, worst: l.worstMinutes, tubes: l.tubes }))} />
            <GroupTable first={t('specimens.colLaptop')} testId="ttl-laptops" rows={s.laptops.map((l) => ({ ...l, key: l.producer, label: l.producer }))} />
          </Card>
        </>
      )}
    </Stack>
  );
}
