import { Text } from '@mantine/core';
import { useEffect, useState } from 'react';
import { sinceDraw, type Freshness } from '../../../shared/specimens.ts';

const BG: Record<Freshness, string> = { ok: 'gray.1', near: 'yellow.4', past: 'red.9' };
const WORDS: Record<Freshness, string> = { ok: '', near: ' · near its limit', past: ' · past its limit' };

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
  const s = sinceDraw(drawn, now, limit);
  return (
    <Text component="span" size="sm" fw={600} px={6} py={1} bg={BG[s.freshness]} c={s.freshness === 'past' ? 'white' : 'dark'} style={{ borderRadius: 4, whiteSpace: 'nowrap' }} data-testid="since-draw" data-freshness={s.freshness}>
      {s.text}{WORDS[s.freshness]}
    </Text>
  );
}
