import type { Logger } from '@nestjs/common';
import type { Redis } from 'ioredis';
import { errorMessage } from '../../common/error-message.js';
import { lostConnection } from './lost-connection.js';

/**
 * Tells this process's BullMQ workers which running job a cancel (from any process) named: one
 * subscriber connection per backend on the `cancel` channel, opened with the first worker. A message
 * lost while the connection is down only delays a cancel: each worker also polls the marks of the
 * jobs it runs (`BullmqQueueWorker`).
 */
export class BullmqCancelSignals {
  private subscriber: Redis | undefined;
  private opening: Promise<void> | undefined;
  private readonly listeners = new Map<string, Set<(id: string) => void>>();

  constructor(
    private readonly redis: Redis,
    private readonly channel: string,
    private readonly logger: Pick<Logger, 'warn'>,
  ) {}

  /** Calls `onCancel` with the id of each cancelled running job of `queue`; resolves to a function that stops. */
  async listen(queue: string, onCancel: (id: string) => void): Promise<() => void> {
    let set = this.listeners.get(queue);
    if (!set) this.listeners.set(queue, (set = new Set()));
    set.add(onCancel);
    const stop = () => {
      set.delete(onCancel);
    };
    try {
      await this.open();
    } catch (error) {
      stop();
      throw error;
    }
    return stop;
  }

  async close(): Promise<void> {
    const subscriber = this.subscriber;
    this.subscriber = undefined;
    this.opening = undefined;
    if (subscriber) await subscriber.quit().catch(() => subscriber.disconnect());
  }

  private open(): Promise<void> {
    this.opening ??= (async () => {
      const subscriber = this.redis.duplicate();
      this.subscriber = subscriber;
      // A lost connection is the outage the workers' own connections report; ioredis reconnects.
      subscriber.on('error', (error: Error) => {
        if (!lostConnection(error)) this.logger.warn(`${this.channel}: the cancel subscription failed: ${error.message}`);
      });
      subscriber.on('message', (_channel: string, message: string) => this.dispatch(message));
      // Not fatal: ioredis subscribes again on every reconnect, and the workers' polls cover the gap.
      await subscriber.subscribe(this.channel).catch((error: unknown) => this.logger.warn(`${this.channel}: subscribing to cancels failed: ${errorMessage(error)}`));
    })();
    return this.opening;
  }

  private dispatch(message: string): void {
    let parsed: unknown;
    try {
      parsed = JSON.parse(message);
    } catch {
      return;
    }
    if (!Array.isArray(parsed) || typeof parsed[0] !== 'string' || typeof parsed[1] !== 'string') return;
    for (const onCancel of this.listeners.get(parsed[0]) ?? []) onCancel(parsed[1]);
  }
}
