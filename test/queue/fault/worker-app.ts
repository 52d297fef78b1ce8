/**
 * A worker-only Ballast app, as deployed apart from the web process: a Nest application context
 * (no HTTP server) with one `@Job` handler, configured from env (DATABASE_URL, BALLAST_SCHEMA,
 * QUEUE_PROVIDER, REDIS_URL...). Run by `node --import ../crash/register-ts.mjs`. It writes
 * `job <id> <n>` when a handler runs and `ready` once booted; Nest's log lines go to stdout too.
 */
import 'reflect-metadata';
import { Injectable, Module } from '@nestjs/common';
import { NestFactory } from '@nestjs/core';
import { BallastModule, Job, type JobContext } from '../../../lib/index.js';

@Injectable()
class FaultJobs {
  @Job('tick', { queue: 'fault', concurrency: 4 })
  tick(data: { n: number }, context: JobContext): number {
    process.stdout.write(`job ${context.id} ${data.n}\n`);
    return data.n;
  }
}

@Module({ imports: [BallastModule.forRoot()], providers: [FaultJobs] })
class WorkerModule {}

const app = await NestFactory.createApplicationContext(WorkerModule);
app.enableShutdownHooks();
process.stdout.write('ready\n');
