/**
 * Long work as generators: each `yield` marks a point where a bounded piece (one SQLite transaction, one file) is
 * done. The CLI drains them at once; a server or the desktop worker drains them a step per event-loop turn, so
 * requests keep being served while a large retry or import runs.
 */
export function drain<R>(steps: Generator<unknown, R, void>): R {
  for (;;) {
    const next = steps.next();
    if (next.done) return next.value;
  }
}

export async function drainYielding<R>(steps: Generator<unknown, R, void>): Promise<R> {
  for (;;) {
    const next = steps.next();
    if (next.done) return next.value;
    await new Promise<void>((resolve) => setImmediate(resolve));
  }
}
