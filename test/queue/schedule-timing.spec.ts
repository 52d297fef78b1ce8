import { describe, expect, it } from '@jest/globals';
import { MISSED_TICK_MS } from '../../lib/queue/new-schedule.interface.js';
import { dueTick, lastTickAtOrBefore, nextTickAfter } from '../../lib/queue/schedule-timing.js';
import { cronerRepeatStrategy } from '../../lib/drivers/bullmq/croner-repeat-strategy.js';

const paris = (cron: string) => ({ kind: 'cron' as const, cron, tz: 'Europe/Paris' });
const at = (iso: string) => Date.parse(iso);
const iso = (ms: number) => new Date(ms).toISOString();

/** The ticks of `timing` from `fromIso` (exclusive) to `toIso` (inclusive), walked one by one as the scheduler does. */
function ticksBetween(timing: Parameters<typeof nextTickAfter>[0], fromIso: string, toIso: string): string[] {
  const ticks: string[] = [];
  for (let t = nextTickAfter(timing, at(fromIso)); t <= at(toIso); t = nextTickAfter(timing, t)) ticks.push(iso(t));
  return ticks;
}

/**
 * Tick arithmetic on a fixed clock (no store, no timers): DST in a zone that has it, intervals from
 * the epoch, and the catch-up rule after downtime.
 */
describe('schedule timing', () => {
  it('runs a 02:30 daily job once on the spring-forward day, when the clock has jumped to 03:00', () => {
    // Europe/Paris, 2026-03-29: 02:00 CET becomes 03:00 CEST; 02:30 does not exist.
    expect(ticksBetween(paris('30 2 * * *'), '2026-03-27T12:00:00Z', '2026-03-31T12:00:00Z')).toEqual([
      '2026-03-28T01:30:00.000Z', // 02:30 CET
      '2026-03-29T01:00:00.000Z', // 03:00 CEST, the first time after the gap
      '2026-03-30T00:30:00.000Z', // 02:30 CEST
      '2026-03-31T00:30:00.000Z',
    ]);
  });

  it('runs a 02:30 daily job once on the fall-back day, at the first 02:30', () => {
    // Europe/Paris, 2026-10-25: 03:00 CEST becomes 02:00 CET; 02:30 happens twice.
    expect(ticksBetween(paris('30 2 * * *'), '2026-10-23T12:00:00Z', '2026-10-27T12:00:00Z')).toEqual([
      '2026-10-24T00:30:00.000Z', // 02:30 CEST
      '2026-10-25T00:30:00.000Z', // the first 02:30 (CEST); not again at 01:30Z (CET)
      '2026-10-26T01:30:00.000Z', // 02:30 CET
      '2026-10-27T01:30:00.000Z',
    ]);
  });

  it('keeps an hourly job hourly in real time across both changes', () => {
    const spring = ticksBetween(paris('0 * * * *'), '2026-03-28T23:30:00Z', '2026-03-29T02:30:00Z');
    expect(spring).toEqual(['2026-03-29T00:00:00.000Z', '2026-03-29T01:00:00.000Z', '2026-03-29T02:00:00.000Z']);
    const fall = ticksBetween(paris('0 * * * *'), '2026-10-24T23:30:00Z', '2026-10-25T02:30:00Z');
    expect(fall).toEqual(['2026-10-25T00:00:00.000Z', '2026-10-25T01:00:00.000Z', '2026-10-25T02:00:00.000Z']);
  });

  it('reads an expression in its zone, UTC by default, seconds field included', () => {
    expect(iso(nextTickAfter({ kind: 'cron', cron: '0 3 * * *', tz: 'UTC' }, at('2026-12-04T10:00:00Z')))).toBe('2026-12-05T03:00:00.000Z');
    expect(iso(nextTickAfter({ kind: 'cron', cron: '0 3 * * *', tz: 'America/New_York' }, at('2026-12-04T10:00:00Z')))).toBe('2026-12-05T08:00:00.000Z');
    expect(iso(nextTickAfter({ kind: 'cron', cron: '*/5 * * * * *', tz: 'UTC' }, at('2026-12-04T10:00:01.500Z')))).toBe('2026-12-04T10:00:05.000Z');
  });

  it('counts intervals from the epoch, so every process agrees on the ticks', () => {
    const every = { kind: 'every' as const, everyMs: 5000 };
    expect(nextTickAfter(every, 12_345)).toBe(15_000);
    expect(nextTickAfter(every, 15_000)).toBe(20_000);
    expect(lastTickAtOrBefore(every, 15_000)).toBe(15_000);
    expect(lastTickAtOrBefore(paris('30 2 * * *'), at('2026-03-29T01:00:00Z'))).toBe(at('2026-03-29T01:00:00Z'));
  });

  it('folds the ticks missed while down into one: the latest with catchUp last, none with catchUp none', () => {
    const hourly = { kind: 'cron' as const, cron: '0 * * * *', tz: 'UTC' };
    // Due at 06:00, seen at 09:20: three ticks missed (06, 07, 08, 09).
    const due = at('2026-12-04T06:00:00Z');
    const now = at('2026-12-04T09:20:00Z');
    expect(dueTick(hourly, due, now, 'last')).toEqual({ tick: at('2026-12-04T09:00:00Z'), next: at('2026-12-04T10:00:00Z') });
    expect(dueTick(hourly, due, now, 'none')).toEqual({ tick: null, next: at('2026-12-04T10:00:00Z') });
    // On time (or late by less than MISSED_TICK_MS), both run it.
    const onTime = at('2026-12-04T10:00:00Z') + MISSED_TICK_MS - 1;
    expect(dueTick(hourly, at('2026-12-04T10:00:00Z'), onTime, 'none')).toEqual({ tick: at('2026-12-04T10:00:00Z'), next: at('2026-12-04T11:00:00Z') });
    // A 1-second interval down for a day: one tick, not 86,400.
    const second = { kind: 'every' as const, everyMs: 1000 };
    expect(dueTick(second, 1_000, 86_401_500, 'last')).toEqual({ tick: 86_401_000, next: 86_402_000 });
  });

  it('gives BullMQ the same ticks as the Postgres scheduler (its repeat strategy is croner too)', () => {
    const walk = (pattern: string, tz: string, fromIso: string, n: number) => {
      const ticks: string[] = [];
      let t = at(fromIso);
      for (let i = 0; i < n; i++) ticks.push(iso((t = cronerRepeatStrategy(t, { pattern, tz })!)));
      return ticks;
    };
    expect(walk('30 2 * * *', 'Europe/Paris', '2026-03-28T12:00:00Z', 2)).toEqual(ticksBetween(paris('30 2 * * *'), '2026-03-28T12:00:00Z', '2026-03-30T12:00:00Z'));
    expect(walk('30 2 * * *', 'Europe/Paris', '2026-10-24T12:00:00Z', 2)).toEqual(ticksBetween(paris('30 2 * * *'), '2026-10-24T12:00:00Z', '2026-10-26T12:00:00Z'));
    expect(cronerRepeatStrategy(at('2026-12-04T10:00:00Z'), { pattern: '0 3 * * *' })).toBe(at('2026-12-05T03:00:00Z'));
    expect(cronerRepeatStrategy(at('2026-12-04T10:00:00Z'), { every: 1000 })).toBeUndefined();
  });
});
