/**
 * The chain of custody of one tube, as the site and central show it (electron/core/custody.ts builds it from the
 * signed custody records): drawn by a laptop, then one step per hand-over, each with both devices' clocks and
 * whether the giver's and the receiver's signatures verify.
 */
import { z } from 'zod';

export const VERDICTS = ['valid', 'invalid', 'unsigned'] as const;
export const verdictSchema = z.enum(VERDICTS);
export type Verdict = z.infer<typeof verdictSchema>;

/** bad-signature: a record about the tube was altered or forged; hole: a hand-over is missing; unsigned: a step made
 * by an app from before signed custody; missing: a hand-over where the tube did not arrive. */
export const CHAIN_FLAGS = ['bad-signature', 'hole', 'unsigned', 'missing'] as const;
export const chainFlagSchema = z.enum(CHAIN_FLAGS);
export type ChainFlag = z.infer<typeof chainFlagSchema>;

export const CUSTODY_KINDS = ['pull', 'delivery', 'handover'] as const;
export type CustodyKind = (typeof CUSTODY_KINDS)[number];

export const chainStepSchema = z.object({
  custodyIdentifier: z.string(),
  kind: z.enum(CUSTODY_KINDS),
  from: z.string(),
  to: z.string(),
  /** The giver's clock at the hand-over, and the receiver's when it scanned. */
  handedAt: z.string(),
  receivedAt: z.string(),
  outcome: z.enum(['matched', 'missing', 'unexpected']),
  reason: z.object({ reason: z.string(), note: z.string() }).nullable(),
  /** The giver's statement listing this tube (in the record itself, or in the giver's offer). */
  handover: verdictSchema,
  receipt: verdictSchema,
  /** No record shows `from` took this tube in: a hand-over is missing before this step. */
  hole: z.boolean(),
});
export type ChainStep = z.infer<typeof chainStepSchema>;

export const tubeChainSchema = z.object({
  tube: z.string(),
  drawnBy: z.string().nullable(),
  drawnAt: z.string().nullable(),
  steps: z.array(chainStepSchema),
  /** Who holds it now by the records. */
  holder: z.string().nullable(),
  flags: z.array(chainFlagSchema),
});
export type TubeChain = z.infer<typeof tubeChainSchema>;
