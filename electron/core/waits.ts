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
  return store.getStateJson(BATCH_GAPS_STATE, z.array(batchGapSchema)) ?? [];
}

export function unmatchedFiles(store: Store): UnmatchedFile[] {
  return store.getStateJson(UNMATCHED_STATE, z.array(unmatchedFileSchema)) ?? [];
}
