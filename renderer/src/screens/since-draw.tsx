import { Text } from '@mantine/core';
import { useEffect, useState } from 'react';
import { formatDuration, sinceDraw, type Freshness } from '../../../shared/specimens.ts';
import { useT } from '../i18n.tsx';
import { WAIT_COLOR } from '../ui.tsx';

/** Near the limit in the warning yellow, past it in red, both with white text (WCAG AA: 6.3:1 and 5.5:1). */
const BG: Record<Freshness, string> = { ok: 'gray.1', near: WAIT_COLOR, past: 'red.9' };

/** The clock for "drawn … ago", ticking every 30 s. */
export function useNow(everyMs = 30_000): number {
  const [now, setNow] = useState(() => Date.now());
  useEffect(() => {
    const t = setInterval(() => setNow(Date.now()), everyMs);
    return () => clearInterval(t);
  }, [everyMs]);
  return now;
}

/** "drawn 1 h 42 min ago", amber when near the panel's stability limit, red past it. */
export function SinceDraw({ drawn, now, limit }: { drawn: string; now: number; limit: number | null }) {
  const t = useT();
  const s = sinceDraw(drawn, now, limit);
  const ago = t('specimens.drawnAgo', { duration: formatDuration(s.minutes) });
  return (
    <Text component="span" size="sm" fw={600} px={6} py={1} bg={BG[s.freshness]} c={s.freshness === 'ok' ? 'dark' : 'white'} style={{ borderRadius: 4, whiteSpace: 'nowrap' }} data-testid="since-draw" data-freshness={s.freshness}>
      {s.freshness === 'ok' ? ago : t(s.freshness === 'near' ? 'specimens.drawnNearLimit' : 'specimens.drawnPastLimit', { ago })}
    </Text>
  );
}
