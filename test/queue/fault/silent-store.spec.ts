import { afterEach, describe, expect, it } from '@jest/globals';
import { Injectable, Module } from '@nestjs/common';
import { Test, type TestingModule } from '@nestjs/testing';
import { BallastConnectionError, BallastModule, Job, QueueService, type BallastModuleOptions } from '../../../lib/index.js';
import { startSilentProxy, type SilentProxy } from '../../support/silent-proxy.js';
import { dropSchemaOnServer } from '../../support/backends.js';
import { uniquePrefix, uniqueSchema } from '../../support/unique-name.js';
import { waitFor } from '../../support/wait-for.js';

/** Jobs that run until the test is done with them; the test counts how many started. */
@Injectable()
class StuckJobs {
  static started = 0;

  @Job('stuck', { queue: 'silent', concurrency: 2 })
  async stuck(_data: unknown, context: { signal: AbortSignal }): Promise<void> {
    StuckJobs.started++;
    // Ignores its signal for a while, as real code sometimes does.
    await new Promise((resolve) => setTimeout(resolve, 30_000).unref());
    void context;
  }
}

@Module({ providers: [StuckJobs] })
class StuckJobsModule {}

const GRACE = 500;
/** What a close may take past the grace period: a few bounded steps of 1-1.5 s each. */
const MARGIN = 8000;

/**
 * A store that stops answering (a silent connection, not a refused one) must not hang the app:
 * `app.close()` ends within `queue.shutdownTimeoutMs` plus a fixed margin, and the boot within
 * `bootTimeoutMs`, naming the store. Both used to hang for ever (still hanging after 128 s).
 */
describe.each([
  ['postgres', 5432, (port: number): BallastModuleOptions => ({ postgres: { connectionString: `postgres://postgres@127.0.0.1:${port}/test` } })],
  ['redis', 6379, (port: number): BallastModuleOptions => ({ redis: { url: `redis://127.0.0.1:${port}` }, cache: { provider: 'redis' }, queue: { provider: 'redis' } })],
] as const)('a silent %s', (name, targetPort, options) => {
  let proxy: SilentProxy | undefined;
  let moduleRef: TestingModule | undefined;
  const schema = uniqueSchema(`silent_${name}`);

  afterEach(async () => {
    await proxy?.close();
    proxy = undefined;
    moduleRef = undefined;
    if (name === 'postgres') await dropSchemaOnServer(schema);
  });

  async function boot(port: number, extra: Partial<BallastModuleOptions> = {}): Promise<TestingModule> {
    const ref = await Test.createTestingModule({
      imports: [
        BallastModule.forRoot({
          ...options(port),
          schema,
          keyPrefix: uniquePrefix(`silent-${name}`),
          queue: { ...options(port).queue, shutdownTimeoutMs: GRACE, pollIntervalMs: 200 },
          ...extra,
        }),
        StuckJobsModule,
      ],
    }).compile();
    ref.useLogger(false);
    await ref.init();
    return ref;
  }

  it('app.close() ends within the shutdown timeout plus a fixed margin while jobs run', async () => {
    proxy = await startSilentProxy(targetPort);
    moduleRef = await boot(proxy.port);
    StuckJobs.started = 0;
    const queue = moduleRef.get(QueueService);
    await queue.add('silent', 'stuck', {});
    await queue.add('silent', 'stuck', {});
    await queue.add('silent', 'stuck', {});
    await waitFor('two jobs to run', () => StuckJobs.started === 2, 10_000);
    proxy.silence();
    const started = Date.now();
    await moduleRef.close();
    const took = Date.now() - started;
    console.log(`silent ${name}: app.close() took ${took} ms (shutdownTimeoutMs ${GRACE})`);
    expect(took).toBeLessThan(GRACE + MARGIN);
  }, 60_000);

  it('a boot ends within bootTimeoutMs, naming the store', async () => {
    proxy = await startSilentProxy(targetPort);
    proxy.silence();
    const started = Date.now();
    const error = await boot(proxy.port, { bootTimeoutMs: 1500 }).catch((e: unknown) => e);
    const took = Date.now() - started;
    expect(error).toBeInstanceOf(BallastConnectionError);
    expect((error as BallastConnectionError).message).toMatch(/no answer within 1500 ms/);
    expect((error as BallastConnectionError).where).toContain(`127.0.0.1:${proxy.port}`);
    expect(took).toBeLessThan(1500 + 3000);
  }, 30_000);
});
