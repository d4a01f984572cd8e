/** Small pieces every screen uses: a pager with a count, a progress line, a relative time with the exact one on hover. */
import { Alert, Group, Pagination, Select, Text } from '@mantine/core';
import { useId } from 'react';
import type { ProgressEvent } from '../../shared/contract.ts';
import type { BatchGap, ProducerWait, UnmatchedFile } from '../../shared/status.ts';
import { LANGUAGES, setLanguage, useFormat, useLanguage, useT, type Language, type MessageKey, type TFunction } from './i18n.tsx';

const PHASES = ['push', 'pull', 'consume', 'import', 'send', 'export'] as const;

/** "Applying: 1,200 of 5,553" for a progress event, in the user's words. */
export function useProgressText(): (p: ProgressEvent) => string {
  const t = useT();
  return (p) => {
    const phase = (PHASES as readonly string[]).includes(p.phase) ? t(`progress.${p.phase}` as MessageKey) : t('progress.other');
    return t('progress.line', { phase, done: p.done, total: p.total });
  };
}

/** A count ("Showing 1–25 of 500") and page buttons; hidden buttons when everything fits on one page. */
export function Pager({ total, page, pageSize, onChange, testId = 'pager' }: { total: number; page: number; pageSize: number; onChange: (page: number) => void; testId?: string }) {
  const t = useT();
  const pages = Math.max(1, Math.ceil(total / pageSize));
  const from = total === 0 ? 0 : page * pageSize + 1;
  const to = Math.min(total, (page + 1) * pageSize);
  return (
    <Group justify="space-between" data-testid={testId}>
      <Text size="sm" data-testid={`${testId}-count`}>{t('common.showing', { from, to, total })}</Text>
      {pages > 1 && (
        <Pagination total={pages} value={page + 1} onChange={(p) => onChange(p - 1)} aria-label={t('common.pages')}
          getControlProps={(control) => ({ 'aria-label': t(({ first: 'common.firstPage', previous: 'common.previousPage', next: 'common.nextPage', last: 'common.lastPage' } as const)[control]) })}
          getItemProps={(p) => ({ 'aria-label': t('common.page', { n: p }) })} />
      )}
    </Group>
  );
}

/** A model's name in the user's words ("participant", "blood tube"). */
export function modelLabel(t: TFunction, txName: string): string {
  const key = `models.${txName}` as MessageKey;
  const v = t(key);
  return v === key ? txName.replace('edc.', '').replace('_', ' ') : v;
}

/** "3 min ago", with the exact date and time as a tooltip. */
export function When({ iso, testId }: { iso: string | null | undefined; testId?: string }) {
  const f = useFormat();
  const t = useT();
  if (!iso) return <span data-testid={testId}>{t('time.never')}</span>;
  return <span title={f.dateTime(iso)} data-testid={testId}>{f.relative(iso)}</span>;
}

/** The language of every screen (kept on this computer); in the header and on Device & settings, always with its visible label. */
export function LanguagePicker({ compact = false }: { compact?: boolean }) {
  const t = useT();
  const lng = useLanguage();
  const id = useId();
  const select = (
    <Select id={id} label={compact ? undefined : t('common.language')} description={compact ? undefined : t('common.languageHint')}
      data={LANGUAGES.map((l) => ({ value: l.value, label: l.draft ? `${l.label} (${t('common.draftMark')})` : l.label }))} value={lng} onChange={(v) => v && setLanguage(v as Language)}
      allowDeselect={false} w={compact ? 230 : 300} size={compact ? 'sm' : 'md'} data-testid="language" />
  );
  if (!compact) return select;
  // In the header: the label beside the box, as visible as the box itself.
  return (
    <Group gap="xs" wrap="nowrap">
      <Text component="label" htmlFor={id} size="sm" fw={500} data-testid="language-label">{t('common.language')}</Text>
      {select}
    </Group>
  );
}

/**
 * The warning colours, one set for every screen, in place of Mantine's yellow and orange, which do not reach WCAG AA
 * contrast (4.5:1 for text): a light badge's or an alert title's yellow on its own tint 2.7:1, orange 3.8:1; white on
 * a filled orange badge or button 4.3:1, orange.9 text on white 4.3:1. These dark shades pass every way they are used
 * (as a Mantine `color` or a text colour `c`): WAIT_COLOR, the yellow (something waits, is late or near its limit,
 * a box to check), 6.3:1 against white (white text on it, or it as text on white), 5.5:1 as text on its own tint;
 * CONFLICT_COLOR, the orange (a conflict, changes owed, a tube not on the list, a warning before an action), 8.2:1 and
 * 6.9:1. e2e/batches-contrast.spec.ts puts them on screen and has axe check them.
 */
export const WAIT_COLOR = '#8a5300';
export const CONFLICT_COLOR = '#8a3406';
/** Done, delivered, reachable: Mantine's green (even at shade 9) is 4.37:1 under white text and 3.86:1 as light text. */
export const OK_COLOR = '#1f6f30';

/** A failure in plain words, next to what it is about, with the code in a small "details" line for support. */
export function ProblemAlert({ state, testId, mt, mb }: { state: { error: string | null; details: string | null }; testId?: string; mt?: string; mb?: string }) {
  const t = useT();
  if (!state.error) return null;
  return (
    <Alert color="red" role="alert" data-testid={testId} mt={mt} mb={mb}>
      <Text>{state.error}</Text>
      {state.details && <Text size="xs" c="dimmed" mt={4} data-testid="problem-details" data-details>{t('common.details', { details: state.details })}</Text>}
    </Alert>
  );
}

/** Per producer, why its changes wait here, in plain words (Status and Consumed batches; issue 9, deliverable 6). */
export function ProducerWaits({ waits }: { waits: readonly ProducerWait[] }) {
  const t = useT();
  const f = useFormat();
  // Gaps have their own alert beside this one ("Waiting for missing changes"), as before.
  const shown = waits.filter((w) => w.kind !== 'gap');
  if (shown.length === 0) return null;
  const sentence = (w: ProducerWait): string => {
    switch (w.kind) {
      case 'gap': return t(w.to > w.from ? 'status.waitGap' : 'status.waitGapOne', { from: w.from, to: w.to, producer: w.producer });
      case 'deferred': return t('status.waitDeferred', { count: w.count, producer: w.producer, since: w.since ? f.relative(w.since) : '?' });
      case 'blocked': return t('status.waitBlocked', { count: w.count, producer: w.producer });
      case 'schema': return t('status.waitSchema', { count: w.count, producer: w.producer, theirs: w.schemaVersion, here: w.here });
      case 'key': return t('status.waitKey', { count: w.count, producer: w.producer, keys: w.keyIds.join(', ') });
      default: {
        const never: never = w;
        return never;
      }
    }
  };
  return (
    // The heading as body text: an alert's coloured title does not reach WCAG AA contrast on its tinted background.
    <Alert color={WAIT_COLOR} data-testid="producer-waits">
      <Text fw={700} mb={4}>{t('status.producerWaitsTitle')}</Text>
      {shown.map((w) => (
        <Text key={`${w.producer}:${w.kind}`} size="sm" data-testid="producer-wait" data-producer={w.producer} data-kind={w.kind}>{sentence(w)}</Text>
      ))}
    </Alert>
  );
}

/** What file import waits for, in plain words (Status and Consumed batches on a site or central). */
export function FileWaits({ batchGaps, unmatchedFiles }: { batchGaps: readonly BatchGap[]; unmatchedFiles: readonly UnmatchedFile[] }) {
  const t = useT();
  const f = useFormat();
  return (
    <>
      {batchGaps.length > 0 && (
        <Alert color={WAIT_COLOR} title={t('status.batchGapsTitle')} data-testid="batch-gaps">
          {t('status.batchGapsText', {
            list: batchGaps.map((g) => t(g.to > g.from ? 'status.batchGapRange' : 'status.batchGap', { from: g.from, to: g.to, exporter: g.exporter, since: f.relative(g.since) })).join('; '),
          })}
        </Alert>
      )}
      {unmatchedFiles.length > 0 && (
        <Alert color={WAIT_COLOR} title={t('status.unmatchedTitle')} data-testid="unmatched-files">
          {unmatchedFiles.map((u) => (
            <Text key={u.fileName} size="sm" ff="monospace">{t(u.kind === 'data-without-manifest' ? 'status.unmatchedData' : 'status.unmatchedManifest', { file: u.fileName, since: f.relative(u.since) })}</Text>
          ))}
          <Text mt={4}>{t('status.unmatchedText')}</Text>
        </Alert>
      )}
    </>
  );
}
