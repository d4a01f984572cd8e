/**
 * What file import waits for (written by files/import.ts at each run, read by status and the Consumed batches
 * screen): each exporter's missing batch numbers with since when, and files left without their other half.
 */
import { z } from 'zod';
import { batchGapSchema, unmatchedFileSchema, type BatchGap, type UnmatchedFile } from '../../shared/status.ts';
import type { Store } from './store.ts';

export const BATCH_GAPS_STATE = 'importBatchGaps';
export const UNMATCHED_STATE = 'importUnmatched';

export function batchGaps(store: Store): BatchGap[] {
  return stateList(store, BATCH_GAPS_STATE, batchGapSchema);
}

export function unmatchedFiles(store: Store): UnmatchedFile[] {
  return stateList(store, UNMATCHED_STATE, unmatchedFileSchema);
}

function stateList<T>(store: Store, key: string, schema: z.ZodType<T>): T[] {
  const v = store.getState(key);
  if (!v) return [];
  try {
    const r = z.array(schema).safeParse(JSON.parse(v));
    return r.success ? r.data : [];
  } catch {
    return [];
  }
}
