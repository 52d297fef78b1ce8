/**
 * What `QueueService.cancel` did:
 * - `cancelled`: the job was waiting or delayed; it is now `cancelled` and will not run;
 * - `cancelling`: the job is running; its handler's signal aborts with `JobCancelledError` and the
 *   job ends `cancelled` (not retried) as soon as the worker that runs it hears of it;
 * - `finished`: the job had already completed, failed or been cancelled; nothing changed;
 * - `missing`: there is no such job (never added, or removed by retention).
 */
export type CancelOutcome = 'cancelled' | 'cancelling' | 'finished' | 'missing';
