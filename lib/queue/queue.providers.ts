import type { Provider } from '@nestjs/common';
import { JobEventDispatcher } from './job-event.dispatcher.js';
import { JobExplorer } from './job.explorer.js';
import { JobRegistry } from './job.registry.js';
import { queueBackendProvider } from './queue-backend.provider.js';
import { QueueService } from './queue.service.js';
import { QueueWorkers } from './queue.workers.js';

/**
 * The queue's part of the module: its backend (picked by config, opened on first use), discovery of
 * `@Job` / `@OnJobEvent` methods, the workers, and the service users inject.
 */
export const queueProviders: Provider[] = [queueBackendProvider, JobRegistry, JobExplorer, JobEventDispatcher, QueueWorkers, QueueService];
export const queueExports = [QueueService];
