/** The Devices screen (site, central; a middleman: the laptops it visited today): per-device figures kept in fleet_device. */
import { CLOCK_SKEW_WARN_MS } from '../../../shared/fleet.ts';
import { clockHistory, fleetPage, startOfToday } from '../../core/fleet.ts';
import { SCHEMA_VERSION } from '../../core/domain/registry.ts';
import { APP_VERSION } from '../../core/version.ts';
import { issuePairingCode } from '../../server/auth.ts';
import type { AreaHandlers, HandlerContext } from '../context.ts';

export function devicesHandlers(ctx: HandlerContext): AreaHandlers<'devices.list' | 'devices.clock' | 'devices.pairingCode'> {
  return {
    'devices.list': async ({ today, sort, desc, page, pageSize }) => {
      const s = ctx.need();
      let activeKeyId: string | null = null;
      try {
        activeKeyId = s.requireKeys().activeKeyId;
      } catch {
        activeKeyId = null; // no key set here: nothing to compare key ids with
      }
      return {
        ...fleetPage(s, { ...(today ? { seenSince: startOfToday(s) } : {}), sort, desc, page, pageSize }),
        here: { appVersion: APP_VERSION, schemaVersion: SCHEMA_VERSION, activeKeyId, clockWarnMs: CLOCK_SKEW_WARN_MS },
      };
    },
    'devices.clock': async ({ deviceId }) => ({ readings: clockHistory(ctx.need(), deviceId) }),
    'devices.pairingCode': async ({ deviceId, role, replace }, who) => {
      const c = issuePairingCode(ctx.need(), { deviceId, role, purpose: replace ? 'replace' : 'pair', actor: ctx.actor(who).user });
      ctx.changed('status');
      return c;
    },
  };
}
