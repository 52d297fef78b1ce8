import { afterEach, describe, expect, it } from '@jest/globals';
import { Redis } from 'ioredis';
import { BullmqQueueBackend } from '../../lib/drivers/bullmq/bullmq-queue.backend.js';
import { startPrivateRedis, type PrivateRedis } from '../support/private-redis.js';
import { waitFor } from '../support/wait-for.js';
import { newJob } from './bullmq-harness.js';
import { testExecutor } from '../support/test-executor.js';

/**
 * A worker must still shut down when Redis is gone: BullMQ's own close waits for ever then
 * (bullmq#4656), and a deploy during an outage would hang. Runs on a private Redis it can kill.
 */
describe('BullMQ worker shutdown during a Redis outage', () => {
  let server: PrivateRedis | undefined;
  let redis: Redis | undefined;

  afterEach(async () => {
    redis?.disconnect();
    await server?.stop();
  });

  it('closes within its bounds when Redis dies under running jobs, and leaves no timer behind', async () => {
    server = await startPrivateRedis();
    redis = new Redis(server.url, { maxRetriesPerRequest: 1, connectionName: 'ballast' });
    redis.on('error', () => undefined);
    await redis.ping();
    const timersBefore = activeTimers();
    const backend = new BullmqQueueBackend('redis', redis, 'outage:');
    let started = 0;
    const worker = await backend.startWorker({
      executor: testExecutor('q', { slow: () => (started++, new Promise((resolve) => setTimeout(resolve, 60_000).unref())) }, { concurrency: 2 }),
      shutdownTimeoutMs: 300,
      onEvent: () => undefined,
    });
    await backend.add([newJob('q', 'slow'), newJob('q', 'slow')]);
    await waitFor('both jobs running', () => started === 2);

    await server.kill();
    await waitFor('client sees the outage', () => redis!.status !== 'ready');

    const closing = Date.now();
    await worker.close();
    await backend.close();
    // Grace period, then bounded forced steps of 2 s each.
    expect(Date.now() - closing).toBeLessThan(8000);
    // No timer of the worker (lock renewal, stalled check) is left to keep a process alive.
    redis.disconnect();
    await waitFor('timers back to what they were', () => activeTimers() <= timersBefore, 3000);
  }, 30_000);
});

function activeTimers(): number {
  return process.getActiveResourcesInfo().filter((resource) => resource === 'Timeout').length;
}
