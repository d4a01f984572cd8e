/**
 * Tells a barcode scanner from a person typing: a scanner sends its characters a few milliseconds apart and ends
 * with Enter. Used when focus is in another text field on a reconciliation screen (a filter, a note): a fast burst
 * ending in Enter is taken out of that field and treated as a scan. Pure (times are passed in), so it is tested
 * without a browser.
 */
export const MAX_GAP_MS = 60;
export const MIN_LENGTH = 4;

export class ScanBurst {
  private chars = '';
  private last = -Infinity;
  private target: unknown = null;
  /** The field's value before the burst began, to put back when the burst turns out to be a scan. */
  valueBefore = '';

  /** A printable key arrived at `target` (whose value before this key was `value`) at `at` ms. */
  key(ch: string, at: number, target: unknown, value: string): void {
    if (at - this.last > MAX_GAP_MS || target !== this.target) {
      this.chars = '';
      this.valueBefore = value;
      this.target = target;
    }
    this.chars += ch;
    this.last = at;
  }

  /** Enter arrived: the scanned code if what came before was a scanner's burst, else null. Resets either way. */
  enter(at: number, target: unknown): string | null {
    const code = at - this.last <= MAX_GAP_MS && target === this.target && this.chars.length >= MIN_LENGTH ? this.chars : null;
    this.reset();
    return code;
  }

  reset(): void {
    this.chars = '';
    this.last = -Infinity;
    this.target = null;
  }
}
