import { Cron } from 'croner';

const crons = new Map<string, Cron>();

/**
 * The parsed cron expression `pattern` in zone `tz`, parsed once and shared. Paused, so it only
 * computes times and never schedules anything itself. Throws croner's error for one it cannot read.
 */
export function cronOf(pattern: string, tz: string): Cron {
  const key = `${tz}\u0000${pattern}`;
  let cron = crons.get(key);
  if (!cron) {
    cron = new Cron(pattern, { timezone: tz, paused: true });
    crons.set(key, cron);
  }
  return cron;
}
