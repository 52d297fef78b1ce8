export { BallastModule } from './ballast.module.js';
export type { BallastModuleOptions } from './ballast-options.interface.js';
export type {
  BallastCoreOptions,
  PostgresConnectionOptions,
  PostgresServerOptions,
  RedisConnectionOptions,
} from './core/config/ballast-core-options.interface.js';
export { PROVIDER_NAMES, type ProviderName } from './common/provider-name.js';
export { milliseconds, seconds, minutes, hours, days } from './common/duration.js';
export type { Clock } from './common/clock.js';
export { MAX_KEY_LENGTH } from './common/assert-key.js';
export { MAX_JSON_DEPTH } from './common/json-value.js';
export type { SqlClient, SqlResult } from './core/connections/sql-client.js';
export type { PostgresPool, PostgresPoolClient, PostgresQueryConfig } from './core/connections/postgres-pool.interface.js';
export type { PgliteInstance } from './core/connections/pglite-instance.interface.js';

export { CacheService } from './cache/cache.service.js';
export type { CacheOptions } from './cache/cache-options.interface.js';
export type { CacheSetOptions } from './cache/cache-set-options.interface.js';

export { QueueService } from './queue/queue.service.js';
export { Job } from './queue/job.decorator.js';
export { OnJobEvent, type OnJobEventOptions } from './queue/on-job-event.decorator.js';
export { DEFAULT_QUEUE } from './queue/job.explorer.js';
export type { QueueOptions } from './queue/queue-options.interface.js';
export type { JobHandlerOptions } from './queue/job-handler-options.interface.js';
export type { JobOptions, BackoffOptions, RetentionOption } from './queue/job-options.interface.js';
export type { UniqueJobOptions, DebounceJobOptions, ThrottleJobOptions } from './queue/job-dedupe-options.interface.js';
export type { AddedJob, AddOutcome } from './queue/added-job.interface.js';
export type { CancelOutcome } from './queue/cancel-outcome.interface.js';
export type { JobRateLimitOptions } from './queue/job-rate-limit-options.interface.js';
export type { JobConcurrencyOptions } from './queue/job-concurrency-options.interface.js';
export type {
  JobSchedule,
  ScheduleSpec,
  ScheduleInfo,
  ScheduleCatchUp,
  ScheduleTiming,
  ScheduledJobOptions,
} from './queue/schedule-options.interface.js';
export { MISSED_TICK_MS } from './queue/new-schedule.interface.js';
export type { JobInfo, JobState, JobCounts, JobContext, JobProgress, BulkJob } from './queue/job.interface.js';
export { MAX_PROGRESS_CHARS } from './queue/job-run.js';
export type {
  JobEvent,
  JobEventType,
  JobEventOf,
  JobCompletedEvent,
  JobFailedEvent,
  JobRetryingEvent,
  JobStalledEvent,
  JobProgressEvent,
  JobCancelledEvent,
} from './queue/job-event.types.js';
export { MAX_QUEUE_NAME_LENGTH, MAX_JOB_NAME_LENGTH, MAX_JOB_ID_LENGTH } from './queue/assert-job-names.js';
export { MAX_PRIORITY, MAX_DEDUPE_KEY_LENGTH } from './queue/job-options.validation.js';

export { RateLimitService } from './rate-limit/rate-limit.service.js';
export { RateLimitGuard } from './rate-limit/rate-limit.guard.js';
export { RateLimit } from './rate-limit/rate-limit.decorator.js';
export { SkipRateLimit } from './rate-limit/skip-rate-limit.decorator.js';
export { RATE_LIMIT_ALGORITHMS, type RateLimitAlgorithm } from './rate-limit/rate-limit-algorithm.js';
export type { RateLimitOptions } from './rate-limit/rate-limit-options.interface.js';
export type { RateLimitPolicy, RateLimitKey, RateLimitStoreErrorPolicy } from './rate-limit/rate-limit-policy.interface.js';
export type { RateLimitResult, RateLimitConsumeOptions } from './rate-limit/rate-limit-result.interface.js';
export type { RateLimitRequest, RateLimitCombinedResult } from './rate-limit/rate-limit-request.interface.js';
export type { ResolvedRateLimitPolicy } from './rate-limit/resolve-rate-limit-policy.js';
export { RateLimitExceededException } from './rate-limit/rate-limit-exceeded.exception.js';
export { RateLimitUnavailableException } from './rate-limit/rate-limit-unavailable.exception.js';

export { BallastError } from './errors/ballast.error.js';
export { BallastConfigError } from './errors/ballast-config.error.js';
export { BallastInputError } from './errors/ballast-input.error.js';
export { BallastBackendError } from './errors/ballast-backend.error.js';
export { BallastConnectionError } from './errors/ballast-connection.error.js';
export { BallastTimeoutError } from './errors/ballast-timeout.error.js';
export { InvalidKeyError } from './errors/invalid-key.error.js';
export { InvalidTtlError, MAX_TTL } from './errors/invalid-ttl.error.js';
export { BallastExceptionFilter } from './http/ballast-exception.filter.js';
export { SerializationError } from './errors/serialization.error.js';
export { UnsupportedOptionError } from './errors/unsupported-option.error.js';
export { InvalidJobNameError } from './errors/invalid-job-name.error.js';
export { InvalidJobOptionError } from './errors/invalid-job-option.error.js';
export { InvalidJobTargetError } from './errors/invalid-job-target.error.js';
export { DuplicateJobHandlerError } from './errors/duplicate-job-handler.error.js';
export { JobHandlerScopeError } from './errors/job-handler-scope.error.js';
export { JobAbortedError } from './errors/job-aborted.error.js';
export { JobLeaseExpiredError } from './errors/job-lease-expired.error.js';
export { JobTimeoutError } from './errors/job-timeout.error.js';
export { JobCancelledError } from './errors/job-cancelled.error.js';
export { RetryLaterError } from './errors/retry-later.error.js';
export type { JobRateLimitedError } from './errors/job-rate-limited.error.js';
export { InvalidJobProgressError } from './errors/invalid-job-progress.error.js';
export { NoJobHandlerError } from './errors/no-job-handler.error.js';
export { InvalidCostError } from './errors/invalid-cost.error.js';
export { UnknownRateLimitPolicyError } from './errors/unknown-rate-limit-policy.error.js';
