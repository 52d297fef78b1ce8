import { hours, minutes, type RateLimitOptions } from '../lib/index.js';

/**
 * The sample app's rate limits. `api` applies to every route (per client address, smooth at window
 * edges); `login` guards against password guessing; `signup` against scripted mass sign-ups;
 * `per-user` counts signed-in users by id, with a token bucket that allows short bursts. Env
 * `RATE_LIMIT_PROVIDER` picks the store.
 */
export const sampleRateLimits: RateLimitOptions = {
  policies: {
    api: { limit: 300, window: minutes(1), algorithm: 'sliding-window' },
    login: { limit: 5, window: minutes(15), algorithm: 'sliding-window' },
    signup: { limit: 10, window: hours(1), algorithm: 'sliding-window' },
    'per-user': { limit: 60, window: minutes(1), algorithm: 'token-bucket', key: 'user' },
  },
  global: 'api',
};
