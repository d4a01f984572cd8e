/**
 * UUIDv7 (RFC 9562): 48-bit Unix milliseconds, then random bits. Ids created together sort together, so the
 * B-tree indexes on ids append at their right edge instead of touching a random page per insert (random v4 keys
 * made every write several times slower). The time prefix is never used to order anything: sync order is
 * producerSeq. Within one millisecond a 12-bit counter in rand_a keeps ids from one process increasing.
 */
import { randomFillSync } from 'node:crypto';

const pool = Buffer.alloc(10 * 1024);
let poolAt = pool.length;
let lastMs = -1;
let counter = 0;
const HEX: string[] = Array.from({ length: 256 }, (_, i) => i.toString(16).padStart(2, '0'));

export function uuidv7(now: number = Date.now()): string {
  if (poolAt + 10 > pool.length) {
    randomFillSync(pool);
    poolAt = 0;
  }
  if (now === lastMs) {
    counter = (counter + 1) & 0xfff;
  } else {
    lastMs = now;
    counter = pool[poolAt]! & 0x7ff; // random start, leaves room to count up within the millisecond
  }
  const b = new Uint8Array(16);
  const ms = Math.max(0, now);
  b[0] = Math.floor(ms / 2 ** 40) & 0xff;
  b[1] = Math.floor(ms / 2 ** 32) & 0xff;
  b[2] = (ms >>> 24) & 0xff;
  b[3] = (ms >>> 16) & 0xff;
  b[4] = (ms >>> 8) & 0xff;
  b[5] = ms & 0xff;
  b[6] = 0x70 | (counter >>> 8);
  b[7] = counter & 0xff;
  b[8] = 0x80 | (pool[poolAt + 1]! & 0x3f);
  for (let i = 9; i < 16; i++) b[i] = pool[poolAt + i - 7]!;
  poolAt += 10;
  let s = '';
  for (let i = 0; i < 16; i++) {
    s += HEX[b[i]!]!;
    if (i === 3 || i === 5 || i === 7 || i === 9) s += '-';
  }
  return s;
}
