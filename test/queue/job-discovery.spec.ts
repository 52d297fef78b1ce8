import { afterAll, afterEach, beforeEach, describe, expect, it } from '@jest/globals';
import { Injectable, Module, Scope, type Type } from '@nestjs/common';
import { Test, type TestingModule } from '@nestjs/testing';
import {
  BallastModule,
  DuplicateJobHandlerError,
  InvalidJobOptionError,
  UnknownRateLimitPolicyError,
  InvalidJobTargetError,
  Job,
  JobHandlerScopeError,
  OnJobEvent,
  QueueService,
  type JobCompletedEvent,
  type JobContext,
  type QueueOptions,
} from '../../lib/index.js';
import { setupBackend, type BackendSetup } from '../support/backends.js';
import { closeSharedPglite } from '../support/shared-pglite.js';
import { waitFor } from '../support/wait-for.js';

afterAll(closeSharedPglite);

/**
 * Discovery of `@Job` / `@OnJobEvent` at bootstrap: every placement mistake fails the boot with its
 * own error class naming the class and method; correct handlers get their defaults, routing and
 * concurrency. Runs on PGlite: none of this depends on the backend.
 */
describe('@Job discovery', () => {
  let setup: BackendSetup;
  const opened: TestingModule[] = [];

  beforeEach(async () => {
    setup = await setupBackend('pglite', 'discovery');
  });

  afterEach(async () => {
    for (const moduleRef of opened.splice(0)) await moduleRef.close();
    await setup.cleanup();
  });

  async function compile(providers: Type[], queue: QueueOptions = {}): Promise<TestingModule> {
    @Module({ providers })
    class HandlersModule {}
    const moduleRef = await Test.createTestingModule({
      imports: [BallastModule.forRoot({ ...setup.options, queue: { pollIntervalMs: 200, ...queue } }), HandlersModule],
    }).compile();
    moduleRef.useLogger(false);
    opened.push(moduleRef);
    return moduleRef;
  }

  async function bootError(providers: Type[]): Promise<unknown> {
    const moduleRef = await compile(providers);
    return moduleRef.init().then(
      () => {
        throw new Error('expected the boot to fail');
      },
      (error: unknown) => error,
    );
  }

  it('refuses two handlers for one job name in one queue, naming both', async () => {
    @Injectable()
    class WelcomeMailer {
      @Job('send-welcome-email', { queue: 'mail' })
      send(): void {}
    }
    @Injectable()
    class LegacyMailer {
      @Job('send-welcome-email', { queue: 'mail' })
      deliver(): void {}
    }
    const error = await bootError([WelcomeMailer, LegacyMailer]);
    expect(error).toBeInstanceOf(DuplicateJobHandlerError);
    expect(error).toMatchObject({ queue: 'mail', jobName: 'send-welcome-email' });
    const { handlers, message } = error as DuplicateJobHandlerError;
    expect(handlers).toHaveLength(2);
    expect(handlers.join(' ')).toMatch(/WelcomeMailer\.send/);
    expect(handlers.join(' ')).toMatch(/LegacyMailer\.deliver/);
    expect(message).toMatch(/WelcomeMailer\.send .*LegacyMailer\.deliver|LegacyMailer\.deliver .*WelcomeMailer\.send/);
  });

  it('routes one job name in two queues to their own handlers', async () => {
    const seen: string[] = [];
    @Injectable()
    class MailJobs {
      @Job('ping', { queue: 'mail' })
      ping(_data: unknown, context: JobContext): void {
        seen.push(`mail:${context.queue}`);
      }
    }
    @Injectable()
    class SmsJobs {
      @Job('ping', { queue: 'sms' })
      ping(_data: unknown, context: JobContext): void {
        seen.push(`sms:${context.queue}`);
      }
    }
    const moduleRef = await compile([MailJobs, SmsJobs]);
    await moduleRef.init();
    const queue = moduleRef.get(QueueService);
    await queue.add('mail', 'ping', {});
    await queue.add('sms', 'ping', {});
    await waitFor('both jobs', () => seen.length === 2, 10_000);
    expect(seen.sort()).toEqual(['mail:mail', 'sms:sms']);
  });

  it('refuses @Job on a request-scoped provider', async () => {
    @Injectable({ scope: Scope.REQUEST })
    class PerRequestJobs {
      @Job('audit')
      audit(): void {}
    }
    const error = await bootError([PerRequestJobs]);
    expect(error).toBeInstanceOf(JobHandlerScopeError);
    expect(error).toMatchObject({ className: 'PerRequestJobs', methodName: 'audit', scope: 'request' });
    expect((error as Error).message).toContain('PerRequestJobs.audit');
  });

  it('refuses @Job on a transient provider', async () => {
    @Injectable({ scope: Scope.TRANSIENT })
    class TransientJobs {
      @Job('audit')
      audit(): void {}
    }
    expect(await bootError([TransientJobs])).toMatchObject({ name: 'JobHandlerScopeError', className: 'TransientJobs', scope: 'transient' });
  });

  it('refuses @Job on a provider that depends on a request-scoped one', async () => {
    @Injectable({ scope: Scope.REQUEST })
    class RequestContext {}
    @Injectable()
    class ImplicitlyScopedJobs {
      constructor(readonly context: RequestContext) {}
      @Job('audit')
      audit(): void {}
    }
    const error = await bootError([RequestContext, ImplicitlyScopedJobs]);
    expect(error).toBeInstanceOf(JobHandlerScopeError);
    expect(error).toMatchObject({ className: 'ImplicitlyScopedJobs', scope: 'request' });
  });

  it('refuses @OnJobEvent on a request-scoped provider', async () => {
    @Injectable({ scope: Scope.REQUEST })
    class PerRequestListener {
      @OnJobEvent('failed')
      onFailed(): void {}
    }
    expect(await bootError([PerRequestListener])).toMatchObject({ name: 'JobHandlerScopeError', className: 'PerRequestListener', methodName: 'onFailed' });
  });

  it('refuses @Job on what is not an instance method: a property, an accessor, a static method, a class', async () => {
    const asAny = (decorator: MethodDecorator) => decorator as unknown as PropertyDecorator & ClassDecorator;
    @Injectable()
    class OnProperty {
      @asAny(Job('p'))
      handler: unknown = undefined;
    }
    @Injectable()
    class OnAccessor {
      @asAny(Job('a'))
      get handler(): () => void {
        return () => undefined;
      }
    }
    @Injectable()
    class OnStatic {
      @Job('s')
      static handle(): void {}
    }
    @asAny(Job('c'))
    @Injectable()
    class OnClass {}

    const cases: Array<[Type, string | undefined]> = [
      [OnProperty, 'handler'],
      [OnAccessor, 'handler'],
      [OnStatic, 'static handle'],
      [OnClass, undefined],
    ];
    for (const [provider, member] of cases) {
      const error = await bootError([provider]);
      expect(error).toBeInstanceOf(InvalidJobTargetError);
      expect(error).toMatchObject({ decorator: '@Job', className: provider.name, member });
      expect((error as Error).message).toContain(provider.name);
    }
  });

  it('refuses invalid @Job names and options, naming the method', async () => {
    const bad: Array<[string, () => Type, string, unknown]> = [
      ['concurrency 0', () => { @Injectable() class A { @Job('x', { concurrency: 0 }) run(): void {} } return A; }, 'concurrency', 0],
      ['a queue name with a colon', () => { @Injectable() class B { @Job('x', { queue: 'mail:eu' }) run(): void {} } return B; }, 'queue', 'mail:eu'],
      ['an empty job name', () => { @Injectable() class C { @Job('') run(): void {} } return C; }, 'name', ''],
      ['an unknown option', () => { @Injectable() class D { @Job('x', { retries: 3 } as never) run(): void {} } return D; }, 'retries', 3],
      ['a bad backoff type', () => { @Injectable() class E { @Job('x', { backoff: { type: 'linear' as never, delay: 5 } }) run(): void {} } return E; }, 'backoff.type', 'linear'],
      ['a lease under a second', () => { @Injectable() class F { @Job('x', { leaseMs: 10 }) run(): void {} } return F; }, 'leaseMs', 10],
      ['a cron expression croner cannot read', () => { @Injectable() class G { @Job('x', { schedule: { cron: '0 25 * * *' } }) run(): void {} } return G; }, 'schedule.cron', '0 25 * * *'],
      ['an unknown time zone', () => { @Injectable() class H { @Job('x', { schedule: { cron: '0 3 * * *', tz: 'Europe/Atlantis' } }) run(): void {} } return H; }, 'schedule.tz', 'Europe/Atlantis'],
      ['an every under 100 ms', () => { @Injectable() class I { @Job('x', { schedule: { every: 10 } }) run(): void {} } return I; }, 'schedule.every', 10],
      ['a schedule with both timings', () => { @Injectable() class J { @Job('x', { schedule: { every: 1000, cron: '* * * * *' } as never }) run(): void {} } return J; }, 'schedule.cron', '* * * * *'],
      ['a rate limit without a policy', () => { @Injectable() class K { @Job('x', { rateLimit: { key: () => 'k' } as never }) run(): void {} } return K; }, 'rateLimit.policy', undefined],
      ['a rate-limit key that is no function', () => { @Injectable() class L { @Job('x', { rateLimit: { policy: 'p', key: 'account' as never } }) run(): void {} } return L; }, 'rateLimit.key', 'account'],
      ['a negative maxRetryLater', () => { @Injectable() class M { @Job('x', { maxRetryLater: -1 }) run(): void {} } return M; }, 'maxRetryLater', -1],
    ];
    for (const [label, make, option, value] of bad) {
      const provider = make();
      const error = await bootError([provider]);
      expect({ label, error }).toEqual({ label, error: expect.any(InvalidJobOptionError) });
      expect(error).toMatchObject({ option, value, source: `@Job on ${provider.name}.run` });
    }
  });

  it('refuses a @Job rate limit whose policy is not configured, naming the method and the policies there are', async () => {
    @Injectable()
    class ChargeJobs {
      @Job('charge', { rateLimit: { policy: 'stripe' } })
      run(): void {}
    }
    const error = await bootError([ChargeJobs]);
    expect(error).toBeInstanceOf(UnknownRateLimitPolicyError);
    expect((error as Error).message).toContain('stripe');
    expect((error as Error).message).toContain('ChargeJobs.run');
  });

  it('applies the @Job options as defaults of its job name, under the options of add', async () => {
    @Injectable()
    class ReportJobs {
      @Job('build-report', { queue: 'reports', attempts: 4, backoff: { type: 'fixed', delay: 250 }, removeOnFail: 10 })
      build(): void {}
    }
    const moduleRef = await compile([ReportJobs], { workers: false });
    await moduleRef.init();
    const queue = moduleRef.get(QueueService);
    const { id: withDefaults } = await queue.add('reports', 'build-report', {});
    const { id: overridden } = await queue.add('reports', 'build-report', {}, { attempts: 2 });
    const { id: otherName } = await queue.add('reports', 'something-else', {});
    expect((await queue.getJob('reports', withDefaults))?.maxAttempts).toBe(4);
    expect((await queue.getJob('reports', overridden))?.maxAttempts).toBe(2);
    expect((await queue.getJob('reports', otherName))?.maxAttempts).toBe(1);
  });

  it('runs no worker with workers: false, and enqueues all the same', async () => {
    @Injectable()
    class CountingJobs {
      /** Per application: which instance ran a job tells which application's worker took it. */
      readonly ran: string[] = [];
      @Job('count')
      count(_data: unknown, context: JobContext): void {
        this.ran.push(context.id);
      }
    }
    const enqueueOnly = await compile([CountingJobs], { workers: false });
    await enqueueOnly.init();
    const queue = enqueueOnly.get(QueueService);
    const { id: first } = await queue.add('default', 'count', {});
    expect((await queue.getJob('default', first))?.state).toBe('waiting');
    // Not a fixed wait: the same code with workers on, on the same store, runs every job, the first
    // one enqueued before it booted and the rest while both applications are up (and notified of
    // each job alike); the enqueue-only application, which would have raced it for each, ran none.
    const withWorkers = await compile([CountingJobs]);
    await withWorkers.init();
    const runs = () => ({ enqueueOnly: enqueueOnly.get(CountingJobs).ran, withWorkers: withWorkers.get(CountingJobs).ran });
    await waitFor('the first job to run', () => runs().enqueueOnly.length + runs().withWorkers.length === 1, 10_000);
    const more = [(await queue.add('default', 'count', {})).id, (await queue.add('default', 'count', {})).id, (await queue.add('default', 'count', {})).id];
    await waitFor('all four jobs to run', () => runs().enqueueOnly.length + runs().withWorkers.length === 4, 10_000);
    expect(runs()).toEqual({ enqueueOnly: [], withWorkers: [first, ...more] });
  });

  it('keeps each handler within its own concurrency when a queue mixes limits', async () => {
    const active = { fast: 0, single: 0, total: 0 };
    const peak = { fast: 0, single: 0, total: 0 };
    const track = async (name: 'fast' | 'single') => {
      active[name]++;
      active.total++;
      peak[name] = Math.max(peak[name], active[name]);
      peak.total = Math.max(peak.total, active.total);
      await new Promise((resolve) => setTimeout(resolve, 40));
      active[name]--;
      active.total--;
    };
    let done = 0;
    @Injectable()
    class MixedJobs {
      @Job('fast', { queue: 'mixed', concurrency: 4 })
      async fast(): Promise<void> {
        await track('fast');
        done++;
      }
      @Job('single', { queue: 'mixed', concurrency: 1 })
      async single(): Promise<void> {
        await track('single');
        done++;
      }
    }
    const moduleRef = await compile([MixedJobs]);
    await moduleRef.init();
    const queue = moduleRef.get(QueueService);
    await queue.addBulk([
      ...Array.from({ length: 6 }, () => ({ queue: 'mixed', name: 'single', data: {} })),
      ...Array.from({ length: 12 }, () => ({ queue: 'mixed', name: 'fast', data: {} })),
    ]);
    await waitFor('all jobs', () => done === 18, 15_000);
    expect(peak.single).toBe(1);
    expect(peak.total).toBeLessThanOrEqual(4);
    expect(peak.fast).toBeGreaterThan(1);
  });

  it('stores a result JSON cannot hold exactly as JSON.stringify gives it, and a thrown string as an Error', async () => {
    @Injectable()
    class OddJobs {
      @Job('dated', { removeOnComplete: false })
      dated(): { at: Date } {
        return { at: new Date(Date.UTC(2030, 0, 1)) };
      }
      @Job('throws-string', { removeOnFail: false })
      throwsString(): void {
        throw 'plain string';
      }
    }
    const moduleRef = await compile([OddJobs]);
    await moduleRef.init();
    const queue = moduleRef.get(QueueService);
    const { id: dated } = await queue.add('default', 'dated', {});
    const { id: thrower } = await queue.add('default', 'throws-string', {});
    const done = await waitFor('the dated job', async () => {
      const job = await queue.getJob('default', dated);
      return job?.state === 'completed' ? job : undefined;
    }, 10_000);
    expect(done!.result).toEqual({ at: '2030-01-01T00:00:00.000Z' });
    const failed = await waitFor('the throwing job', async () => {
      const job = await queue.getJob('default', thrower);
      return job?.state === 'failed' ? job : undefined;
    }, 10_000);
    expect(failed!.error?.message).toBe('plain string');
  });

  it('keeps a job completed when an event listener throws', async () => {
    const heard: string[] = [];
    @Injectable()
    class FragileListener {
      @Job('ok', { removeOnComplete: false })
      ok(): string {
        return 'done';
      }
      @OnJobEvent('completed')
      explode(): void {
        throw new Error('listener bug');
      }
      @OnJobEvent('completed')
      async rejects(): Promise<void> {
        throw new Error('async listener bug');
      }
      @OnJobEvent('completed', { queue: 'default' })
      record(event: JobCompletedEvent): void {
        heard.push(`${event.name}:${String(event.result)}`);
      }
    }
    const moduleRef = await compile([FragileListener]);
    await moduleRef.init();
    const queue = moduleRef.get(QueueService);
    const { id } = await queue.add('default', 'ok', {});
    await waitFor('the event', () => heard.length === 1, 10_000);
    expect(heard).toEqual(['ok:done']);
    expect((await queue.getJob('default', id))?.state).toBe('completed');
  });
});
