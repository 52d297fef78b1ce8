import { Test, type TestingModule } from '@nestjs/testing';
import { Redis } from 'ioredis';
import { BallastModule, QueueService, type QueueOptions } from '../../../lib/index.js';
import type { BackendSetup } from '../../support/backends.js';
import { unlinkByPrefix } from '../../../lib/core/connections/unlink-by-prefix.js';
import { TEST_REDIS_URL } from '../../support/test-env.js';
import { ContractJobsModule, JOB_BUDGET_LIMIT, JOB_BUDGET_POLICY, JOB_BUDGET_WINDOW_MS, JobProbe } from './contract-jobs.js';

export interface QueueTestApp {
  moduleRef: TestingModule;
  queue: QueueService;
  probe: JobProbe;
  close(): Promise<void>;
}

/**
 * Boots BallastModule plus the contract handlers on `setup`'s backend, as an app would. Polling is
 * shortened so delayed jobs and missed wake-ups show within the tests' deadlines.
 */
export async function bootQueueApp(setup: BackendSetup, queue: QueueOptions = {}): Promise<QueueTestApp> {
  const moduleRef = await Test.createTestingModule({
    imports: [
      BallastModule.forRoot({
        ...setup.options,
        // The cache on the same backend, so a Redis run does not also start embedded PGlite for it.
        cache: { provider: setup.provider },
        // The budget of the contract's rate-limited jobs, on the same backend as the queue.
        rateLimit: { provider: setup.provider, policies: { [JOB_BUDGET_POLICY]: { algorithm: 'fixed-window', limit: JOB_BUDGET_LIMIT, window: JOB_BUDGET_WINDOW_MS } } },
        queue: { provider: setup.provider, pollIntervalMs: 200, shutdownTimeoutMs: 5000, ...queue } }),
      ContractJobsModule,
    ],
  }).compile();
  moduleRef.useLogger(false);
  await moduleRef.init();
  let closing: Promise<void> | undefined;
  return {
    moduleRef,
    queue: moduleRef.get(QueueService),
    probe: moduleRef.get(JobProbe),
    // Idempotent, so a test may close its app itself and `afterEach` still closes whatever is open.
    close: () => (closing ??= moduleRef.close()),
  };
}

/** Deletes the keys a Redis-protocol test wrote under its prefix (both test URLs point at one server by default). */
export async function deleteKeys(prefix: string, url = TEST_REDIS_URL): Promise<void> {
  const redis = new Redis(url);
  try {
    await unlinkByPrefix(redis, prefix, 1000);
  } finally {
    redis.disconnect();
  }
}
