import { Injectable, Module } from '@nestjs/common';
import { Job, type JobContext } from '../../../lib/index.js';

/** One run of a scheduled job: which app ran it, for which tick. */
export interface TickRun {
  app: string;
  queue: string;
  name: string;
  id: string;
  data: unknown;
  scheduledFor: number | undefined;
}

/**
 * Every run of the schedule suite's handlers, across the app instances of one test (they share the
 * process): the suite counts runs per tick over all replicas.
 */
export class TickLog {
  static readonly runs: TickRun[] = [];
  static record(app: string, data: unknown, context: JobContext): void {
    TickLog.runs.push({ app, queue: context.queue, name: context.name, id: context.id, data, scheduledFor: context.scheduledFor?.getTime() });
  }
  static of(name: string): TickRun[] {
    return TickLog.runs.filter((run) => run.name === name);
  }
}


/** `beat` every 500 ms from the code, and `report`, which only runtime schedules drive. */
@Injectable()
class BeatJobs {
  private readonly tag = `app-${Math.random().toString(36).slice(2, 8)}`;

  @Job('beat', { queue: 'sched', schedule: { every: 500, data: { from: 'code' } } })
  beat(data: unknown, context: JobContext): void {
    TickLog.record(this.tag, data, context);
  }

  @Job('report', { queue: 'sched' })
  report(data: unknown, context: JobContext): void {
    TickLog.record(this.tag, data, context);
  }
}

@Module({ providers: [BeatJobs] })
export class BeatJobsModule {}

/** The same handler, its schedule changed in the code: a cron every 2 s, other data. */
@Injectable()
class ChangedBeatJobs {
  @Job('beat', { queue: 'sched', schedule: { cron: '*/2 * * * * *', tz: 'Europe/Paris', data: { from: 'changed' } } })
  beat(data: unknown, context: JobContext): void {
    TickLog.record('changed', data, context);
  }

  @Job('report', { queue: 'sched' })
  report(data: unknown, context: JobContext): void {
    TickLog.record('changed', data, context);
  }
}

@Module({ providers: [ChangedBeatJobs] })
export class ChangedBeatJobsModule {}

/** The same handler with its schedule removed from the code. */
@Injectable()
class UnscheduledBeatJobs {
  @Job('beat', { queue: 'sched' })
  beat(data: unknown, context: JobContext): void {
    TickLog.record('unscheduled', data, context);
  }

  @Job('report', { queue: 'sched' })
  report(data: unknown, context: JobContext): void {
    TickLog.record('unscheduled', data, context);
  }
}

@Module({ providers: [UnscheduledBeatJobs] })
export class UnscheduledBeatJobsModule {}
