/**
 * Row shapes several modules read (db/typed.ts `shaped`): checked by zod where the rows are read. Counts and sums
 * are numbers on both drivers (PostgreSQL's through the type parsers of db/pg-worker.ts).
 */
import { z } from 'zod';

/** `SELECT count(*) AS n …` */
export const countRow = z.object({ n: z.number() });
/** One text column `id`. */
export const idRow = z.object({ id: z.string() });
/** One text column `producer`. */
export const producerRow = z.object({ producer: z.string() });
/** `SELECT value FROM device_state …` */
export const valueRow = z.object({ value: z.string() });
/** A record of any model, as stored (its columns are the model's: domain/registry.ts; no model has a blob column). */
export const recordRow = z.record(z.string(), z.union([z.string(), z.number(), z.null()]));
