/**
 * Identifiers that are unique across devices without coordination: each embeds the device tag (device ids are
 * unique in a study) and a per-device counter, plus a check character so a mistyped or misread code is caught.
 */
const ALPHABET = '0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZ';

/** Luhn mod 36 check character over [0-9A-Z]. */
export function checkCharacter(body: string): string {
  const n = ALPHABET.length;
  let factor = 2;
  let sum = 0;
  for (let i = body.length - 1; i >= 0; i--) {
    const code = ALPHABET.indexOf(body[i]!);
    if (code < 0) continue;
    let addend = factor * code;
    factor = factor === 2 ? 1 : 2;
    addend = Math.floor(addend / n) + (addend % n);
    sum += addend;
  }
  return ALPHABET[(n - (sum % n)) % n]!;
}

export function hasValidCheck(identifier: string): boolean {
  const plain = identifier.replaceAll('-', '');
  return plain.length > 1 && checkCharacter(plain.slice(0, -1)) === plain.slice(-1);
}

export function deviceTag(deviceId: string): string {
  return deviceId.toUpperCase().replace(/[^A-Z0-9]/g, '');
}

/** e.g. S01-RA01-00042-7 */
export function subjectIdentifier(siteCode: string, deviceId: string, counter: number): string {
  const body = `${siteCode}${deviceTag(deviceId)}${String(counter).padStart(5, '0')}`;
  return `${siteCode}-${deviceTag(deviceId)}-${String(counter).padStart(5, '0')}-${checkCharacter(body)}`;
}

/** e.g. RRA010000427: fits a Code 128 label. */
export function requisitionIdentifier(deviceId: string, counter: number): string {
  const body = `R${deviceTag(deviceId)}${String(counter).padStart(6, '0')}`;
  return `${body}${checkCharacter(body)}`;
}
