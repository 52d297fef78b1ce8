import { afterAll, afterEach, describe, expect, it } from '@jest/globals';
import { Controller, Get, Injectable, Param, type INestApplication } from '@nestjs/common';
import { Test } from '@nestjs/testing';
import type { AddressInfo } from 'node:net';
import { BallastModule, Job, QueueService, RateLimit } from '../../lib/index.js';
import { ALL_BACKENDS, setupBackend, type BackendSetup, type TestBackend } from '../support/backends.js';
import { closeSharedPglite } from '../support/shared-pglite.js';
import { TEST_REDIS_URL, TEST_VALKEY_URL } from '../support/test-env.js';
import { waitFor } from '../support/wait-for.js';
import { deleteKeys } from './support/queue-test-app.js';

afterAll(closeSharedPglite);

const LIMIT = 50;
const WINDOW_MS = 1000;
const RUN_MS = 5000;

/** When each `charge` job started, in the order they did. */
const jobStarts: number[] = [];

@Controller()
class ChargeController {
  @Get('charge/:account')
  @RateLimit('stripe')
  charge(@Param('account') account: string): string {
    return account;
  }
}

@Injectable()
class ChargeJobs {
  @Job('charge', { queue: 'stripe', concurrency: 10, rateLimit: { policy: 'stripe', key: (data: { account: string }) => data.account } })
  charge(): void {
    jobStarts.push(Date.now());
  }
}

/**
 * One budget for routes and jobs, over HTTP: a policy of 50 per second (fixed window) keyed by
 * account, used by a route (`@RateLimit('stripe')`, key from the path) that four clients hammer for
 * 5 s and by `charge` jobs of the same account waiting in a queue. Together they never get more
 * than 50 in any window: the total over the run is at most 50 times the windows it touched, where
 * two budgets would get twice that; and both sides get units (the budget is shared, not split).
 */
describe.each(ALL_BACKENDS)('one rate-limit budget for a route and a queue on %s', (backend: TestBackend) => {
  let setup: BackendSetup;
  let app: INestApplication | undefined;

  afterEach(async () => {
    await app?.close();
    app = undefined;
    await setup.cleanup();
    if (backend === 'redis' || backend === 'valkey') await deleteKeys(setup.keyPrefix, backend === 'redis' ? TEST_REDIS_URL : TEST_VALKEY_URL);
  });

  it(`lets the route and the jobs take at most ${LIMIT} per second together`, async () => {
    setup = await setupBackend(backend, 'budget');
    const moduleRef = await Test.createTestingModule({
      imports: [
        BallastModule.forRoot({
          ...setup.options,
          cache: { provider: setup.provider },
          rateLimit: {
            provider: setup.provider,
            policies: {
              stripe: {
                algorithm: 'fixed-window',
                limit: LIMIT,
                window: WINDOW_MS,
                key: (context) => context.switchToHttp().getRequest<{ params: { account: string } }>().params.account,
              },
            },
          },
          queue: { provider: setup.provider, pollIntervalMs: 200 },
        }),
      ],
      controllers: [ChargeController],
      providers: [ChargeJobs],
    }).compile();
    moduleRef.useLogger(false);
    app = moduleRef.createNestApplication({ logger: false });
    await app.listen(0, '127.0.0.1');
    const { port } = app.getHttpServer().address() as AddressInfo;
    const queue = app.get(QueueService);
    jobStarts.length = 0;

    // Stamped before the first decision and after the last, so every decision falls between.
    const from = Date.now();
    await queue.addBulk(Array.from({ length: 400 }, (_, i) => ({ queue: 'stripe', name: 'charge', data: { account: 'acme', i } })));
    let routesAllowed = 0;
    let routesRefused = 0;
    const client = async () => {
      while (Date.now() - from < RUN_MS) {
        const response = await fetch(`http://127.0.0.1:${port}/charge/acme`);
        await response.arrayBuffer();
        if (response.status === 200) routesAllowed++;
        else if (response.status === 429) routesRefused++;
        else throw new Error(`unexpected status ${response.status}`);
      }
    };
    await Promise.all([client(), client(), client(), client()]);
    const until = Date.now();
    // Jobs that started by then took their unit by then (the unit is taken right before the run).
    const jobsRun = jobStarts.filter((at) => at < until).length;
    const windows = Math.floor(until / WINDOW_MS) - Math.floor(from / WINDOW_MS) + 1;
    expect(routesAllowed).toBeGreaterThan(0);
    expect(routesRefused).toBeGreaterThan(0);
    expect(jobsRun).toBeGreaterThan(0);
    expect(routesAllowed + jobsRun).toBeLessThanOrEqual(LIMIT * windows);
    // Saturated: every whole window in between was used up (so the bound above is the one that held).
    expect(routesAllowed + jobsRun).toBeGreaterThanOrEqual(LIMIT * (windows - 2));
    // The queue keeps going after the route stops: the jobs are held back, not lost.
    await waitFor('more jobs to run once the route is quiet', () => jobStarts.length > jobsRun + LIMIT / 2, 10_000);
  }, 30_000);
});
