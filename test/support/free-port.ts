import { createServer } from 'node:net';

/**
 * A loopback port nothing listens on right now: the kernel's pick for port 0, bound and closed
 * again. Tests start their own servers on it (never on a fixed port), or use it as a port whose
 * every connection is refused.
 */
export function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const probe = createServer();
    probe.unref();
    probe.once('error', reject);
    probe.listen(0, '127.0.0.1', () => {
      const address = probe.address();
      const port = typeof address === 'object' && address ? address.port : 0;
      probe.close(() => (port > 0 ? resolve(port) : reject(new Error('no port from the OS'))));
    });
  });
}
