import { afterEach, describe, expect, it } from '@jest/globals';
import { Controller, Get, type ExecutionContext, type INestApplication, Module, UseGuards } from '@nestjs/common';
import { Test } from '@nestjs/testing';
import request from 'supertest';
import {
  BallastConfigError,
  BallastModule,
  hours,
  RateLimit,
  RateLimitGuard,
  SkipRateLimit,
  UnknownRateLimitPolicyError,
  type RateLimitOptions,
} from '../../lib/index.js';
import { setupBackend } from '../support/backends.js';

const tenant = (context: ExecutionContext): string | undefined => {
  const value = context.switchToHttp().getRequest<{ headers: Record<string, unknown> }>().headers['x-tenant'];
  return typeof value === 'string' ? value : undefined;
};

@Controller('shop')
@RateLimit({ limit: 2, window: hours(1) })
class ShopController {
  @Get('one')
  one(): string {
    return 'one';
  }

  @Get('two')
  two(): string {
    return 'two';
  }

  @Get('own')
  @RateLimit({ limit: 5, window: hours(1) })
  own(): string {
    return 'own';
  }

  @Get('stacked')
  @RateLimit('tight')
  @RateLimit({ limit: 10, window: hours(1) }, { limit: 20, window: hours(2) })
  stacked(): string {
    return 'stacked';
  }

  @Get('no-global')
  @SkipRateLimit('global')
  noGlobal(): string {
    return 'no-global';
  }

  @Get('tenant')
  @RateLimit({ limit: 1, window: hours(1), key: tenant })
  tenant(): string {
    return 'tenant';
  }
}

@Controller('plain')
class PlainController {
  @Get()
  plain(): string {
    return 'plain';
  }

  @Get('guarded')
  @UseGuards(RateLimitGuard)
  @RateLimit({ limit: 1, window: hours(1) })
  guarded(): string {
    return 'guarded';
  }
}

@Controller('open')
@SkipRateLimit()
class OpenController {
  @Get()
  open(): string {
    return 'open';
  }

  @Get('limited')
  @RateLimit({ limit: 1, window: hours(1) })
  limited(): string {
    return 'limited';
  }
}

@Controller('a-controller-whose-name-is-long-enough-to-pass-the-limit')
class AControllerWhoseNameIsLongEnoughToPassTheSixtyFourCharacterLimitOfPolicyNames {
  @Get()
  @RateLimit({ limit: 1, window: hours(1) })
  aHandlerWithALongNameToo(): string {
    return 'long';
  }
}

const policies: RateLimitOptions['policies'] = {
  global: { limit: 100, window: hours(1) },
  tight: { limit: 3, window: hours(1), algorithm: 'fixed-window' },
};

/** The guard's reading of decorators, on a purpose-built app (Express; both platforms run in the e2e suite). */
describe('RateLimitGuard', () => {
  let app: INestApplication | undefined;

  async function start(rateLimit: RateLimitOptions, controllers: Array<new () => unknown> = [ShopController, PlainController]) {
    const setup = await setupBackend('redis', 'guard');
    @Module({ imports: [BallastModule.forRoot({ ...setup.options, cache: { provider: 'redis' }, rateLimit: { provider: 'redis', policies, ...rateLimit } })], controllers })
    class TestModule {}
    const moduleRef = await Test.createTestingModule({ imports: [TestModule] }).compile();
    app = moduleRef.createNestApplication({ logger: false });
    await app.init();
    return app.getHttpServer();
  }

  afterEach(async () => {
    await app?.close();
    app = undefined;
  });

  const policyNames = (response: request.Response) =>
    String(response.headers['ratelimit-policy'] ?? '')
      .split(', ')
      .filter(Boolean)
      .map((item) => item.split(';')[0]);

  it('a class-level inline policy is one budget for every handler of the class', async () => {
    const server = await start({});
    const first = await request(server).get('/shop/one').expect(200);
    expect(policyNames(first)).toEqual(['"ShopController"']);
    await request(server).get('/shop/two').expect(200);
    await request(server).get('/shop/one').expect(429);
    await request(server).get('/shop/two').expect(429);
  });

  it("a handler's policies replace its class's; global ones apply as well, unless skipped by name", async () => {
    const server = await start({ global: 'global' });
    expect(policyNames(await request(server).get('/shop/own').expect(200))).toEqual(['"global"', '"ShopController.own"']);
    expect(policyNames(await request(server).get('/shop/one').expect(200))).toEqual(['"global"', '"ShopController"']);
    expect(policyNames(await request(server).get('/shop/no-global').expect(200))).toEqual(['"ShopController"']);
    expect(policyNames(await request(server).get('/plain').expect(200))).toEqual(['"global"']);
  });

  it("a handler's own @RateLimit applies on a class marked @SkipRateLimit(); the class's skip still exempts it from global ones", async () => {
    const server = await start({ global: 'global' }, [OpenController]);
    const open = await request(server).get('/open').expect(200);
    expect(open.headers['ratelimit-policy']).toBeUndefined();
    expect(policyNames(await request(server).get('/open/limited').expect(200))).toEqual(['"OpenController.limited"']);
    await request(server).get('/open/limited').expect(429);
  });

  it('names an inline policy of a long class and method with a safe, stable name of at most 64 characters', async () => {
    const server = await start({}, [AControllerWhoseNameIsLongEnoughToPassTheSixtyFourCharacterLimitOfPolicyNames]);
    const [name] = policyNames(await request(server).get('/a-controller-whose-name-is-long-enough-to-pass-the-limit').expect(200));
    expect(name).toMatch(/^"AControllerWhoseNameIsLong[A-Za-z0-9_.-]*"$/);
    expect(name!.length - 2).toBeLessThanOrEqual(64);
    await request(server).get('/a-controller-whose-name-is-long-enough-to-pass-the-limit').expect(429);
  });

  it('stacked decorators add up, and every policy must pass', async () => {
    const server = await start({});
    const first = await request(server).get('/shop/stacked').expect(200);
    expect(policyNames(first)).toEqual(['"ShopController.stacked"', '"ShopController.stacked.2"', '"tight"']);
    expect(first.headers['ratelimit']).toMatch(/^"ShopController.stacked";r=9;t=\d+, "ShopController.stacked.2";r=19;t=\d+, "tight";r=2;t=\d+$/);
    await request(server).get('/shop/stacked').expect(200);
    await request(server).get('/shop/stacked').expect(200);
    const limited = await request(server).get('/shop/stacked').expect(429);
    expect(limited.body.policies).toEqual(['tight']);
    // The two inline policies were refunded for the rejected request.
    expect(limited.headers['ratelimit']).toMatch(/"ShopController.stacked";r=7;.*"ShopController.stacked.2";r=17;/);
  });

  it('keys by a function of the ExecutionContext, falling back to the address', async () => {
    const server = await start({});
    await request(server).get('/shop/tenant').set('X-Tenant', 'acme').expect(200);
    await request(server).get('/shop/tenant').set('X-Tenant', 'acme').expect(429);
    await request(server).get('/shop/tenant').set('X-Tenant', 'globex').expect(200);
    await request(server).get('/shop/tenant').expect(200);
    await request(server).get('/shop/tenant').expect(429);
  });

  it('with guard: false nothing is limited until a route asks for RateLimitGuard itself', async () => {
    const server = await start({ guard: false, global: 'global' });
    const plain = await request(server).get('/plain').expect(200);
    expect(plain.headers['ratelimit']).toBeUndefined();
    await request(server).get('/shop/one').expect(200);
    await request(server).get('/shop/one').expect(200);
    await request(server).get('/shop/one').expect(200);
    expect(policyNames(await request(server).get('/plain/guarded').expect(200))).toEqual(['"global"', '"PlainController.guarded"']);
    await request(server).get('/plain/guarded').expect(429);
  });

  it('counts a request once when the guard runs both globally and from @UseGuards', async () => {
    const server = await start({});
    const first = await request(server).get('/plain/guarded').expect(200);
    expect(first.headers['ratelimit']).toMatch(/^"PlainController.guarded";r=0;/);
    await request(server).get('/plain/guarded').expect(429);
  });

  it('lets non-HTTP contexts through (they call RateLimitService themselves)', async () => {
    await start({ global: 'global' });
    const guard = app!.get(RateLimitGuard);
    const ws = { getType: () => 'ws' } as unknown as ExecutionContext;
    expect(await guard.canActivate(ws)).toBe(true);
  });

  describe('fails the boot, naming the route', () => {
    it('for an unknown policy name in @RateLimit', async () => {
      @Controller('bad')
      class BadNameController {
        @Get()
        @RateLimit('logn')
        handler(): void {}
      }
      const error = await start({}, [BadNameController]).catch((e: unknown) => e);
      expect(error).toBeInstanceOf(UnknownRateLimitPolicyError);
      expect(error).toBeInstanceOf(BallastConfigError);
      expect((error as UnknownRateLimitPolicyError).where).toBe('@RateLimit on BadNameController.handler');
      expect((error as UnknownRateLimitPolicyError).known).toEqual(['global', 'tight']);
    });

    it('for an unknown policy name in @SkipRateLimit', async () => {
      @Controller('bad')
      @SkipRateLimit('nope')
      class BadSkipController {
        @Get()
        handler(): void {}
      }
      const error = await start({}, [BadSkipController]).catch((e: unknown) => e);
      expect(error).toBeInstanceOf(UnknownRateLimitPolicyError);
      expect((error as UnknownRateLimitPolicyError).where).toBe('@SkipRateLimit on BadSkipController');
    });

    it('for an invalid inline policy', async () => {
      @Controller('bad')
      class BadPolicyController {
        @Get()
        @RateLimit({ limit: 0, window: hours(1) })
        handler(): void {}
      }
      const error = await start({}, [BadPolicyController]).catch((e: unknown) => e);
      expect(error).toBeInstanceOf(BallastConfigError);
      expect((error as BallastConfigError).key).toBe('@RateLimit on BadPolicyController.handler.limit');
    });
  });
});
