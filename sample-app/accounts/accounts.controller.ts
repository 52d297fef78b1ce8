import { BadRequestException, Body, Controller, Get, HttpCode, NotFoundException, Param, Post } from '@nestjs/common';
import { createHash } from 'node:crypto';
import { InvalidJobNameError, QueueService, RateLimit, type JobState } from '../../lib/index.js';
import type { WelcomeEmail } from './welcome-email.job.js';

/** Loose email shape check; the sample's point is the queue, not validation. */
const EMAIL = /^[^\s@]{1,64}@[^\s@]{1,180}$/;

@Controller('signup')
export class AccountsController {
  constructor(private readonly queue: QueueService) {}

  /**
   * Signs a user up and enqueues the welcome email. The response does not wait for the email:
   * the job runs in a worker, here or in another process. Rate-limited per client address
   * (`signup` policy, sample-app/rate-limit.config.ts) against scripted mass sign-ups.
   */
  @Post()
  @HttpCode(202)
  @RateLimit('signup')
  async signup(@Body() body: { email?: unknown }): Promise<{ email: string; jobId: string }> {
    if (typeof body?.email !== 'string' || !EMAIL.test(body.email)) throw new BadRequestException('body must be { "email": "..." }');
    const email = body.email.toLowerCase();
    // The jobId makes a double submit harmless: while the job is kept (until an hour after it ran),
    // adding it again returns the same job. A digest of the address keeps it one id per address
    // (distinct addresses never share a job) and within the jobId alphabet.
    const digest = createHash('sha256').update(email).digest('base64url').slice(0, 22);
    const { id: jobId } = await this.queue.add<WelcomeEmail>('mail', 'send-welcome-email', { email }, { jobId: `welcome-${digest}` });
    return { email, jobId };
  }

  /** Where the welcome email job is: waiting, active, completed (kept an hour), failed. */
  @Get(':jobId')
  async status(@Param('jobId') jobId: string): Promise<{ jobId: string; state: JobState; attemptsMade: number; result?: unknown; error?: string }> {
    // An id that could never be a job (bad characters, too long) is a 404, not a 400: the path is the id.
    const job = await this.queue.getJob('mail', jobId).catch((error: unknown) => {
      if (error instanceof InvalidJobNameError) return undefined;
      throw error;
    });
    if (!job) throw new NotFoundException(`no job ${jobId}`);
    return {
      jobId: job.id,
      state: job.state,
      attemptsMade: job.attemptsMade,
      ...(job.result !== undefined ? { result: job.result } : {}),
      ...(job.error ? { error: job.error.message } : {}),
    };
  }
}
