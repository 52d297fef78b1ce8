import { type MiddlewareConsumer, Module, type NestModule } from '@nestjs/common';
import { AuthController } from './auth.controller.js';
import { DemoAuthMiddleware } from './demo-auth.middleware.js';

@Module({ controllers: [AuthController] })
export class AuthModule implements NestModule {
  configure(consumer: MiddlewareConsumer): void {
    consumer.apply(DemoAuthMiddleware).forRoutes(AuthController);
  }
}
