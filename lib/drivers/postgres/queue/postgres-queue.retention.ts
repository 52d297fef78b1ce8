import type { RetentionOption } from '../../../queue/job-options.interface.js';

/**
 * A retention option as the two columns the pruner reads: how many finished jobs to keep (0 =
 * remove at once, null = no count bound) and for how many ms (null = no age bound).
 */
export function retentionColumns(option: RetentionOption): { count: number | null; ageMs: number | null } {
  if (option === true) return { count: 0, ageMs: null };
  if (option === false) return { count: null, ageMs: null };
  if (typeof option === 'number') return { count: option, ageMs: null };
  return { count: option.count ?? null, ageMs: option.age };
}
