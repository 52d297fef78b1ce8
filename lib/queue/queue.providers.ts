import type { Provider } from '@nestjs/common';
import { JobEventDispatcher } from './job-event.dispatcher.js';
import { JobExplorer } from './job.explorer.js';
import { JobRegistry } from './job.registry.js';
import { QueueService } from './queue.service.js';
import { QueueWorkers } from './queue.workers.js';

/**
 * The queue's part of the module: discovery of `@Job` / `@OnJobEvent` methods, the workers, and the
 * service users inject (its backend comes from the module's driver registry).
 */
export const queueProviders: Provider[] = [JobRegistry, JobExplorer, JobEventDispatcher, QueueWorkers, QueueService];
export const queueExports = [QueueService];
