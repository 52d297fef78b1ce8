import { describe, expect, it } from '@jest/globals';
import pg from 'pg';
import { BallastBackendError, BallastTimeoutError, QueueService } from '../../lib/index.js';
import { setupBackend } from '../support/backends.js';
import { bootBallast } from '../support/boot.js';
import { startPrivateRedis } from '../support/private-redis.js';
import { TEST_DATABASE_URL } from '../support/test-env.js';
import { uniquePrefix } from '../support/unique-name.js';
import { waitFor } from '../support/wait-for.js';
import { tableLocker } from '../support/table-locker.js';

/**
 * An `add` that fails after the store may have received it (a timeout, a lost connection) may still
 * create its job: the error says `outcome: 'unknown'`, so the caller retries with the same `jobId`.
 * An answer that refused the statement wrote nothing, and says nothing of the kind.
 */
describe('the outcome of a failed add', () => {
  it('postgres: an add that timed out is marked outcome unknown, and did create its job', async () => {
    const setup = await setupBackend('postgres', 'outcome');
    const moduleRef = await bootBallast({ ...setup.options, queue: { timeoutMs: 300, workers: false } });
    const locker = await tableLocker();
    try {
      const queue = moduleRef.get(QueueService);
      await queue.add('q', 'warm', {});
      await locker.lock(setup.schema, 'queue_jobs');
      const error = await queue.add('q', 'n', {}, { jobId: 'order-1' }).catch((e: unknown) => e);
      expect(error).toBeInstanceOf(BallastTimeoutError);
      expect((error as BallastTimeoutError).outcome).toBe('unknown');
      expect((error as Error).message).toMatch(/outcome unknown.*jobId/);
      await locker.release();
      // The statement was waiting on the lock, not lost: the job exists now.
      await waitFor('the job to appear', async () => (await queue.getJob('q', 'order-1')) !== undefined);
      // Retrying with the same jobId is harmless.
      expect(await queue.add('q', 'n', {}, { jobId: 'order-1' })).toEqual({ id: 'order-1', outcome: 'deduplicated' });
    } finally {
      await locker.close();
      await moduleRef.close();
      await setup.cleanup();
    }
  });

  it('postgres: an add the server refused wrote nothing and is not marked', async () => {
    const setup = await setupBackend('postgres', 'refused');
    const moduleRef = await bootBallast({ ...setup.options, queue: { workers: false } });
    const admin = new pg.Client({ connectionString: TEST_DATABASE_URL });
    await admin.connect();
    try {
      const queue = moduleRef.get(QueueService);
      await queue.add('q', 'warm', {});
      await admin.query(`DROP TABLE "${setup.schema}".queue_jobs`);
      const error = await queue.add('q', 'n', {}).catch((e: unknown) => e);
      expect(error).toBeInstanceOf(BallastBackendError);
      expect((error as BallastBackendError).outcome).toBeUndefined();
    } finally {
      await admin.end();
      await moduleRef.close();
      await setup.cleanup();
    }
  });

  it('redis: an add on a connection that died is marked outcome unknown', async () => {
    const server = await startPrivateRedis();
    const moduleRef = await bootBallast({
      redis: { url: server.url },
      keyPrefix: uniquePrefix('outcome'),
      cache: { provider: 'redis' },
      queue: { provider: 'redis', timeoutMs: 500, workers: false },
    });
    try {
      const queue = moduleRef.get(QueueService);
      await queue.add('q', 'warm', {});
      await server.kill();
      const error = await queue.add('q', 'n', {}, { jobId: 'order-1' }).catch((e: unknown) => e);
      expect(error).toBeInstanceOf(BallastBackendError);
      expect((error as BallastBackendError).outcome).toBe('unknown');
    } finally {
      await moduleRef.close();
      await server.stop();
    }
  });
});
