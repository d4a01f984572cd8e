/**
 * The site's signed device list (issue 10, deliverable 5): which devices are paired with the site, their public
 * keys and roles, and which are revoked. The site signs it with its device key; a middleman takes it at each contact
 * and carries it to the laptops it visits, so a laptop can refuse a revoked or unknown driver's laptop with no
 * network. A newer list (higher `seq`) replaces an older one; a list is believed only under the site's key.
 */
import { z } from 'zod';
import { deviceIdSchema, roleSchema } from './settings.ts';

const publicKey = z.string().regex(/^[A-Za-z0-9_-]{43}$/);

export const MAX_LISTED_DEVICES = 5000;

export const deviceListSchema = z.object({
  format: z.literal('edc-device-list'),
  version: z.literal(1),
  /** The site that issued it. */
  issuer: deviceIdSchema,
  /** Grows by one whenever the list's content changes. */
  seq: z.number().int().positive(),
  issuedAt: z.iso.datetime(),
  devices: z.array(z.object({
    deviceId: deviceIdSchema,
    role: roleSchema,
    publicKey: publicKey.nullable(),
    revoked: z.boolean(),
  }).strict()).max(MAX_LISTED_DEVICES),
  publicKey,
  sig: z.string().regex(/^[A-Za-z0-9_-]{86}$/),
}).strict();
export type DeviceList = z.infer<typeof deviceListSchema>;
