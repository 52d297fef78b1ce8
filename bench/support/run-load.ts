import { performance } from 'node:perf_hooks';

export interface LoadResult {
  ops: number;
  elapsedMs: number;
  opsPerSec: number;
  p50Ms: number;
  p99Ms: number;
}

/**
 * Runs `op(i)` for i in [0, total) with `concurrency` calls in flight, timing each call.
 * Returns throughput over the whole run and latency percentiles.
 */
export async function runLoad(total: number, concurrency: number, op: (i: number) => Promise<unknown>): Promise<LoadResult> {
  const latencies = new Float64Array(total);
  let next = 0;
  const started = performance.now();
  const lane = async () => {
    for (;;) {
      const i = next++;
      if (i >= total) return;
      const t0 = performance.now();
      await op(i);
      latencies[i] = performance.now() - t0;
    }
  };
  await Promise.all(Array.from({ length: Math.min(concurrency, total) }, lane));
  const elapsedMs = performance.now() - started;
  const sorted = latencies.sort();
  return {
    ops: total,
    elapsedMs,
    opsPerSec: (total / elapsedMs) * 1000,
    p50Ms: percentile(sorted, 0.5),
    p99Ms: percentile(sorted, 0.99),
  };
}

/** The q-quantile of an ascending array (nearest rank). */
export function percentile(sorted: ArrayLike<number>, q: number): number {
  if (sorted.length === 0) return Number.NaN;
  const index = Math.min(sorted.length - 1, Math.max(0, Math.ceil(q * sorted.length) - 1));
  return sorted[index]!;
}
