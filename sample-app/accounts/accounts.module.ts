import { Module } from '@nestjs/common';
import { AccountsController } from './accounts.controller.js';
import { WelcomeEmailJob } from './welcome-email.job.js';

/** Signup: the endpoint enqueues, `WelcomeEmailJob` (a `@Job` handler) sends. */
@Module({
  controllers: [AccountsController],
  providers: [WelcomeEmailJob],
})
export class AccountsModule {}
