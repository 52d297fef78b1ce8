import { BallastError } from './ballast.error.js';

/**
 * A call was given something Ballast will not take: a bad key, TTL, value, job name or option, a
 * cost no policy can grant. Nothing was written. The caller's fault, never the store's: an HTTP app
 * answers it with 400 (`BallastExceptionFilter` does), and retrying the same call cannot help.
 */
export class BallastInputError extends BallastError {}
