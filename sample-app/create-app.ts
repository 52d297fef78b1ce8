import 'reflect-metadata';
import { NestFactory } from '@nestjs/core';
import { ExpressAdapter, type NestExpressApplication } from '@nestjs/platform-express';
import { FastifyAdapter, type NestFastifyApplication } from '@nestjs/platform-fastify';
import type { INestApplication } from '@nestjs/common';
import type { BallastModuleOptions } from '../lib/index.js';
import { AppModule } from './app.module.js';

export type HttpPlatform = 'express' | 'fastify';

/**
 * The proxies the sample trusts with TRUST_PROXY=1: one on the same host. Trust only the proxies you
 * run, by address; `true` (trust everyone) lets any client pick its own address, and so its budget.
 */
const TRUSTED_PROXIES = 'loopback';

/**
 * Builds the sample app on either HTTP platform; `main.ts` and the e2e tests share it, so the tests
 * exercise exactly what `npm run sample` serves. `trustProxy` trusts a proxy on loopback, as an app behind one local proxy would.
 */
export async function createSampleApp(
  platform: HttpPlatform,
  ballast: BallastModuleOptions = {},
  options: { trustProxy?: boolean; logger?: false } = {},
): Promise<INestApplication> {
  const module = AppModule.forRoot(ballast);
  const logger = options.logger === false ? false : undefined;
  if (platform === 'fastify') {
    const app = await NestFactory.create<NestFastifyApplication>(module, new FastifyAdapter(options.trustProxy ? { trustProxy: TRUSTED_PROXIES } : {}), {
      ...(logger === false ? { logger } : {}),
    });
    return app;
  }
  const app = await NestFactory.create<NestExpressApplication>(module, new ExpressAdapter(), { ...(logger === false ? { logger } : {}) });
  if (options.trustProxy) app.set('trust proxy', TRUSTED_PROXIES);
  return app;
}
