// Typical uses of the public API, as an ESM app writes them. Type-checked, not run.
import { Controller, Get, Injectable, Logger, Module, Post } from '@nestjs/common';
import { Redis } from 'ioredis';
import {
  BallastBackendError,
  BallastConfigError,
  BallastModule,
  CacheService,
  Job,
  OnJobEvent,
  QueueService,
  RateLimit,
  RateLimitService,
  SkipRateLimit,
  days,
  minutes,
  seconds,
  type AddedJob,
  type AddOutcome,
  type BallastModuleOptions,
  type JobContext,
  type JobFailedEvent,
  type PgliteInstance,
  type PostgresPool,
  type RateLimitPolicy,
  type ScheduleInfo,
} from 'nestjs-ballast';

// Every way to connect.
export const connections: BallastModuleOptions[] = [
  {},
  { postgres: { connectionString: 'postgres://app@127.0.0.1:5432/app', poolSize: 5, preparedStatements: false } },
  { postgres: { embedded: {} } },
  { postgres: { embedded: { dataDir: './.pglite' } } },
  { valkey: { url: 'redis://127.0.0.1:6379' }, cache: { provider: 'valkey', defaultTtl: minutes(5) } },
  { redis: { client: new Redis({ lazyConnect: true }) }, queue: { provider: 'redis', workers: false } },
];

// Your own pool or PGlite: a `pg.Pool` / `PGlite` (see ../esm-drivers), or anything of their shape.
export function withOwnConnections(pool: PostgresPool, pglite: PgliteInstance): BallastModuleOptions[] {
  return [{ postgres: { pool } }, { postgres: { pool, preparedStatements: false } }, { postgres: { pglite } }];
}

// What must not compile.
// @ts-expect-error a pool is a pg.Pool, not a string
export const notAPool: BallastModuleOptions = { postgres: { pool: 'not a pool' } };
// @ts-expect-error PGlite options are not a PGlite instance
export const notPglite: BallastModuleOptions = { postgres: { pglite: { dataDir: './.pglite' } } };
// @ts-expect-error an ioredis client, not its options
export const notAClient: BallastModuleOptions = { redis: { client: { host: '127.0.0.1' } } };
// @ts-expect-error unknown provider
export const badProvider: BallastModuleOptions = { cache: { provider: 'memcached' } };

const exportsPolicy: RateLimitPolicy = { name: 'exports', limit: 3, window: days(1), durable: true };

@Injectable()
export class ProductsService {
  private readonly logger = new Logger(ProductsService.name);

  constructor(
    private readonly cache: CacheService,
    private readonly queue: QueueService,
    private readonly limits: RateLimitService,
  ) {}

  product(id: string): Promise<{ id: string; name: string }> {
    return this.cache.getOrSet(`product:${id}`, async () => ({ id, name: 'A product' }), { ttl: seconds(30) });
  }

  async cachedName(id: string): Promise<string | undefined> {
    const product = await this.cache.get<{ name: string }>(`product:${id}`);
    return product?.name;
  }

  reindexLater(id: string): Promise<AddedJob> {
    return this.queue.add('search', 'reindex', { id }, { jobId: `reindex-${id}`, attempts: 3, backoff: { type: 'exponential', delay: 1000 } });
  }

  async reindexSoon(id: string): Promise<AddOutcome> {
    const { outcome } = await this.queue.add('search', 'reindex', { id }, { debounce: { key: `reindex-${id}`, delay: 2000 } });
    return outcome;
  }

  async scheduleDigest(tenant: string): Promise<ScheduleInfo[]> {
    await this.queue.upsertSchedule(`digest-${tenant}`, { queue: 'search', name: 'reindex', cron: '0 3 * * *', tz: 'Europe/Paris', catchUp: 'none' });
    return this.queue.getSchedules('search');
  }

  async export(userId: string): Promise<number | undefined> {
    const verdict = await this.limits.consume(`user:${userId}`, exportsPolicy);
    return verdict.allowed ? undefined : verdict.retryAfterMs;
  }

  @Job('reindex', { queue: 'search', concurrency: 2, leaseMs: minutes(1) })
  async reindex(data: { id: string }, context: JobContext): Promise<{ indexed: string }> {
    context.signal.throwIfAborted();
    return { indexed: `${data.id} (attempt ${context.attempt} of ${context.maxAttempts})` };
  }

  @OnJobEvent('failed', { queue: 'search' })
  onFailed(event: JobFailedEvent): void {
    this.logger.error(`${event.name} ${event.jobId} failed: ${event.error.message}`);
  }
}

@Controller('products')
@RateLimit('api')
export class ProductsController {
  constructor(private readonly products: ProductsService) {}

  @Get('health')
  @SkipRateLimit()
  health(): string {
    return 'ok';
  }

  @Post('reindex')
  @RateLimit({ limit: 5, window: minutes(1) })
  async reindex(): Promise<string> {
    return (await this.products.reindexLater('all')).id;
  }
}

@Module({
  imports: [
    BallastModule.forRoot({
      rateLimit: { policies: { api: { limit: 300, window: minutes(1) } }, global: 'api', onStoreError: 'deny' },
      isGlobal: true,
    }),
  ],
  controllers: [ProductsController],
  providers: [ProductsService],
})
export class AppModule {}

export const fromFactory = BallastModule.forRootAsync({
  useFactory: async (): Promise<BallastModuleOptions> => ({ postgres: { connectionString: 'postgres://app@127.0.0.1/app' } }),
});

export function describeError(error: unknown): string {
  if (error instanceof BallastConfigError) return `${error.key}: ${error.allowed}`;
  if (error instanceof BallastBackendError) return `${error.provider} ${error.operation}`;
  return String(error);
}
