import { describe, expect, it } from '@jest/globals';
import { InvalidJobProgressError } from '../../lib/errors/invalid-job-progress.error.js';
import { JobTimeoutError } from '../../lib/errors/job-timeout.error.js';
import { JobRun, MAX_PROGRESS_CHARS } from '../../lib/queue/job-run.js';
import type { JobProgress } from '../../lib/queue/job.interface.js';

/** A progress writer the test answers by hand, one write at a time. */
function manualWriter() {
  const writes: Array<{ value: JobProgress; json: string; finish: (error?: Error) => void }> = [];
  const writer = (_run: unknown, value: JobProgress, json: string) =>
    new Promise<void>((resolve, reject) => writes.push({ value, json, finish: (error) => (error ? reject(error) : resolve()) }));
  return { writes, writer };
}

describe('JobRun', () => {
  it('writes progress one at a time, the latest value replacing any that waited', async () => {
    const { writes, writer } = manualWriter();
    const run = new JobRun('q', '1', 'n', 1, 1, writer);
    const first = run.progress(1);
    const second = run.progress(2);
    const third = run.progress({ step: 3 });
    expect(writes.map((w) => w.value)).toEqual([1]);
    writes[0]!.finish();
    await first;
    await new Promise((resolve) => setImmediate(resolve));
    // 2 never went out: { step: 3 } took its place.
    expect(writes.map((w) => w.json)).toEqual(['1', '{"step":3}']);
    writes[1]!.finish();
    await expect(Promise.all([second, third])).resolves.toEqual([undefined, undefined]);
  });

  it('never rejects for a failed write, and goes on writing after one', async () => {
    const { writes, writer } = manualWriter();
    const run = new JobRun('q', '1', 'n', 1, 1, writer);
    const failed = run.progress(1);
    writes[0]!.finish(new Error('store down'));
    await expect(failed).resolves.toBeUndefined();
    const next = run.progress(2);
    expect(writes).toHaveLength(2);
    writes[1]!.finish();
    await expect(next).resolves.toBeUndefined();
  });

  it('refuses progress that is not JSON-safe or too long, at once, writing nothing', () => {
    const { writes, writer } = manualWriter();
    const run = new JobRun('q', '1', 'n', 1, 1, writer);
    expect(() => run.progress(Number.NaN)).toThrow(InvalidJobProgressError);
    expect(() => run.progress({ at: new Date() } as unknown as JobProgress)).toThrow(InvalidJobProgressError);
    expect(() => run.progress('x'.repeat(MAX_PROGRESS_CHARS))).toThrow(/at most 4096/);
    expect(writes).toHaveLength(0);
  });

  it('aborts its signal with the first reason, also when the signal is read after the abort', () => {
    const run = new JobRun('q', '1', 'n', 1, 1, async () => undefined);
    const first = new JobTimeoutError('q', '1', 10);
    run.abort(first);
    run.abort(new Error('later'));
    expect(run.abortReason).toBe(first);
    expect(run.signal.aborted).toBe(true);
    expect(run.signal.reason).toBe(first);
  });
});
