import { HttpException, HttpStatus } from '@nestjs/common';

/**
 * HTTP 503 with an RFC 9457 problem body: the rate-limit store failed and a policy with
 * `onStoreError: 'deny'` refused the request. Not a 429: the client exceeded nothing, and a 429
 * would make well-behaved clients back off from a quota they never used.
 */
export class RateLimitUnavailableException extends HttpException {
  constructor(readonly policies: readonly string[]) {
    super(
      {
        type: 'about:blank',
        title: 'Service Unavailable',
        status: HttpStatus.SERVICE_UNAVAILABLE,
        detail: `Rate limiting is unavailable and policy ${policies.map((p) => `"${p}"`).join(', ')} refuses requests meanwhile.`,
        policies,
      },
      HttpStatus.SERVICE_UNAVAILABLE,
    );
  }
}
