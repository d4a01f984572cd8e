/**
 * Web UI login limits, per account AND per address, counted before the password check: an attempt takes a slot
 * synchronously when it starts (before the awaited scrypt), so 40 concurrent guesses are 40 slots, not 40 checks.
 * A successful login gives its slot back; a failed one keeps it for a minute.
 *
 * Per account (5 a minute, from anywhere): guessing one account's password is slow. Per address (30 a minute):
 * one machine cannot sweep many accounts. The address limit is higher than the account one because behind the
 * recommended TLS proxy everyone shares one address: ten typos there no longer lock every account out.
 */
import { EdcError } from '../../shared/errors.ts';

export const LOGIN_LIMITS = { perAccountPerMinute: 5, perAddressPerMinute: 30 } as const;
const WINDOW_MS = 60_000;
const MAX_KEYS = 10_000;

class Window {
  private readonly hits = new Map<string, number[]>();
  constructor(private readonly limit: number) {}

  full(key: string, now: number): boolean {
    const recent = (this.hits.get(key) ?? []).filter((t) => now - t < WINDOW_MS);
    if (recent.length) this.hits.set(key, recent);
    else this.hits.delete(key);
    return recent.length >= this.limit;
  }

  take(key: string, now: number): void {
    if (this.hits.size > MAX_KEYS) this.hits.clear(); // bounded memory under a flood of names or addresses
    const list = this.hits.get(key) ?? [];
    list.push(now);
    this.hits.set(key, list);
  }

  give(key: string, at: number): void {
    const list = this.hits.get(key);
    const i = list?.indexOf(at) ?? -1;
    if (list && i >= 0) list.splice(i, 1);
  }
}

export class LoginLimiter {
  private readonly accounts = new Window(LOGIN_LIMITS.perAccountPerMinute);
  private readonly addresses = new Window(LOGIN_LIMITS.perAddressPerMinute);

  /** Takes a slot for this attempt or throws RATE_LIMITED; call `succeeded()` on a good password. */
  begin(address: string, username: string, now = Date.now()): { succeeded(): void } {
    const account = username.toLowerCase();
    if (this.accounts.full(account, now) || this.addresses.full(address, now)) throw new EdcError('RATE_LIMITED');
    this.accounts.take(account, now);
    this.addresses.take(address, now);
    return {
      succeeded: () => {
        this.accounts.give(account, now);
        this.addresses.give(address, now);
      },
    };
  }
}
