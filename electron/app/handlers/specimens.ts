/** Specimen summaries on the site: time to lab per local day and per laptop. */
import { timeToLab } from '../../core/time-to-lab.ts';
import type { AreaHandlers, HandlerContext } from '../context.ts';

export function specimenHandlers(ctx: HandlerContext): AreaHandlers<'specimens.timeToLab'> {
  return {
    'specimens.timeToLab': async (input) => timeToLab(ctx.need(), input),
  };
}
