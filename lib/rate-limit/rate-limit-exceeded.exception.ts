import { HttpException, HttpStatus } from '@nestjs/common';

/**
 * HTTP 429 with an RFC 9457 problem body; the guard sends it as `application/problem+json` with
 * `Retry-After`. `policies` names the policies that rejected the request.
 */
export class RateLimitExceededException extends HttpException {
  constructor(
    readonly policies: readonly string[],
    readonly retryAfterSeconds: number,
  ) {
    super(
      {
        type: 'about:blank',
        title: 'Too Many Requests',
        status: HttpStatus.TOO_MANY_REQUESTS,
        detail: `Rate limit ${policies.map((p) => `"${p}"`).join(', ')} exceeded; retry in ${retryAfterSeconds} s.`,
        policies,
        retryAfter: retryAfterSeconds,
      },
      HttpStatus.TOO_MANY_REQUESTS,
    );
  }
}
