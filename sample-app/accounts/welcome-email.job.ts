import { Injectable, Logger } from '@nestjs/common';
import { Job, type JobContext } from '../../lib/index.js';

export interface WelcomeEmail {
  email: string;
}

/** A sent email, as the stand-in mailer records it. */
export interface SentEmail {
  to: string;
  subject: string;
  jobId: string;
  attempt: number;
  sentAt: string;
}

/**
 * Sends the welcome email (here: records it and logs it; a real app would call its mail provider).
 * Retried up to 5 times with exponential backoff; delivery is at least once, so a real sender would
 * pass `context.id` to the provider as its idempotency key.
 */
@Injectable()
export class WelcomeEmailJob {
  private readonly logger = new Logger('WelcomeEmailJob');
  readonly sent: SentEmail[] = [];

  @Job('send-welcome-email', { queue: 'mail', concurrency: 5, attempts: 5, backoff: { type: 'exponential', delay: 1000 }, removeOnComplete: { age: 3_600_000 } })
  async send(data: WelcomeEmail, context: JobContext): Promise<{ messageId: string }> {
    const email: SentEmail = {
      to: data.email,
      subject: 'Welcome aboard',
      jobId: context.id,
      attempt: context.attempt,
      sentAt: new Date().toISOString(),
    };
    this.sent.push(email);
    this.logger.log(`welcome email to ${data.email} (job ${context.id}, attempt ${context.attempt})`);
    return { messageId: `welcome-${context.id}` };
  }
}
