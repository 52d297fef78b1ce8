import { connect, createServer, type Server, type Socket } from 'node:net';

/**
 * A TCP proxy on a loopback port picked at run time, in front of a real server. `silence()` makes it
 * a store that stops answering without refusing anything: connections stay open, bytes go nowhere,
 * and new connections are accepted and then ignored. That is what a hung server, a network partition
 * or a full firewall table looks like to a client, and the case a refused connection does not test.
 */
export interface SilentProxy {
  readonly port: number;
  silence(): void;
  close(): Promise<void>;
}

export async function startSilentProxy(targetPort: number, targetHost = '127.0.0.1'): Promise<SilentProxy> {
  const sockets = new Set<Socket>();
  let silent = false;
  const track = (socket: Socket) => {
    sockets.add(socket);
    socket.on('error', () => undefined);
    socket.on('close', () => sockets.delete(socket));
  };
  const server: Server = createServer((client) => {
    track(client);
    if (silent) return;
    const upstream = connect(targetPort, targetHost);
    track(upstream);
    client.on('data', (chunk) => {
      if (!silent) upstream.write(chunk);
    });
    upstream.on('data', (chunk) => {
      if (!silent) client.write(chunk);
    });
    // While live, a side that ends ends the other; once silent, nothing is passed on, not even that.
    client.on('close', () => (silent ? undefined : upstream.destroy()));
    upstream.on('close', () => (silent ? undefined : client.destroy()));
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const address = server.address();
  const port = typeof address === 'object' && address ? address.port : 0;
  return {
    port,
    silence: () => {
      silent = true;
    },
    close: async () => {
      for (const socket of sockets) socket.destroy();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}
