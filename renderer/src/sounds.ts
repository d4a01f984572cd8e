/**
 * One distinct sound per scan result, so the driver knows what happened without looking: matched is one short high
 * beep, already scanned two medium beeps, not on this list a long low tone, unreadable three fast low buzzes.
 */
import type { ScanResult } from '../../shared/specimens.ts';

interface Tone { hz: number; ms: number; gapMs: number; wave: OscillatorType }

export const SOUNDS: Record<ScanResult, readonly Tone[]> = {
  matched: [{ hz: 1320, ms: 120, gapMs: 0, wave: 'sine' }],
  duplicate: [{ hz: 880, ms: 90, gapMs: 70, wave: 'sine' }, { hz: 880, ms: 90, gapMs: 0, wave: 'sine' }],
  unexpected: [{ hz: 330, ms: 600, gapMs: 0, wave: 'triangle' }],
  invalid: [{ hz: 180, ms: 80, gapMs: 50, wave: 'square' }, { hz: 180, ms: 80, gapMs: 50, wave: 'square' }, { hz: 180, ms: 80, gapMs: 0, wave: 'square' }],
};

/** A short name of the pattern (shown on the banner for tests and for people who cannot hear it). */
export const soundName = (r: ScanResult): string => SOUNDS[r].map((t) => `${t.hz}Hz×${t.ms}ms`).join('+');

let ctx: AudioContext | null = null;

export function playScanSound(result: ScanResult): void {
  try {
    ctx ??= new AudioContext();
    let t = ctx.currentTime + 0.01;
    for (const tone of SOUNDS[result]) {
      const osc = ctx.createOscillator();
      const gain = ctx.createGain();
      osc.type = tone.wave;
      osc.frequency.value = tone.hz;
      gain.gain.value = 0.25;
      osc.connect(gain).connect(ctx.destination);
      osc.start(t);
      osc.stop(t + tone.ms / 1000);
      t += (tone.ms + tone.gapMs) / 1000;
    }
  } catch {
    // No audio device: the banner still says what happened.
  }
}
