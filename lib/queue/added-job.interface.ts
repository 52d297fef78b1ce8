/**
 * What an add did: `created` a job; found the job it names already there and created nothing
 * (`deduplicated`: its `jobId` exists, its `unique` key is held, or a `throttle` job is pending);
 * or gave a waiting `debounce` job this add's data and run time (`replaced`).
 */
export type AddOutcome = 'created' | 'deduplicated' | 'replaced';

/** What `QueueService.add` resolves to: the job that will run this add's work, and how it came to. */
export interface AddedJob {
  /** The job's id: the new one, or the existing job the add was folded into. */
  id: string;
  outcome: AddOutcome;
}
