import { type ArgumentsHost, Catch, type ExceptionFilter, HttpStatus, Injectable, Logger } from '@nestjs/common';
import { HttpAdapterHost } from '@nestjs/core';
import { BallastBackendError } from '../errors/ballast-backend.error.js';
import { BallastInputError } from '../errors/ballast-input.error.js';
import type { BallastError } from '../errors/ballast.error.js';

/**
 * Answers Ballast's errors in HTTP routes with RFC 9457 problem bodies instead of a bare 500:
 *
 * - a `BallastInputError` (bad key, TTL, value, job name or option) is **400**, with the error's
 *   message, which names what was wrong and never holds a stored value or a secret;
 * - a `BallastBackendError` (a store failed or timed out) is **503** with a generic detail: the
 *   driver's message can describe your infrastructure, so it goes to the log, not to the client;
 * - anything else Ballast throws (a config error, say) is a 500 with a generic detail.
 *
 * Works on Express and Fastify. Other contexts (RPC, WebSockets) get the error rethrown. Register it
 * for the app (`{ provide: APP_FILTER, useClass: BallastExceptionFilter }`) or on a controller with
 * `@UseFilters(BallastExceptionFilter)`.
 */
@Catch(BallastInputError, BallastBackendError)
@Injectable()
export class BallastExceptionFilter implements ExceptionFilter<BallastError> {
  private readonly logger = new Logger('Ballast');

  constructor(private readonly adapterHost: HttpAdapterHost) {}

  catch(error: BallastError, host: ArgumentsHost): void {
    if (host.getType() !== 'http') throw error;
    const { status, title, detail } = describe(error);
    if (status >= 500) this.logger.error(`${error.name}: ${error.message}`, error.stack);
    const adapter = this.adapterHost.httpAdapter;
    const response = host.switchToHttp().getResponse<object>();
    adapter.setHeader(response, 'Content-Type', 'application/problem+json');
    adapter.reply(response, { type: 'about:blank', title, status, detail, error: error.name }, status);
  }
}

function describe(error: BallastError): { status: number; title: string; detail: string } {
  if (error instanceof BallastInputError) return { status: HttpStatus.BAD_REQUEST, title: 'Bad Request', detail: error.message };
  return { status: HttpStatus.SERVICE_UNAVAILABLE, title: 'Service Unavailable', detail: 'A store the service depends on is unavailable; retry later.' };
}
