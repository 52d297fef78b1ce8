import { isIPv6 } from 'node:net';

/**
 * The client address of an Express or Fastify request, as the platform resolved it: `req.ip`
 * honours Express `trust proxy` and Fastify `trustProxy`, so behind a trusted proxy it is the
 * forwarded client and otherwise the socket peer. `X-Forwarded-For` is never read here: any client
 * can send one, so trusting it is the platform's decision, made once, for the whole app.
 */
export function clientAddress(request: unknown): string | undefined {
  const req = request as { ip?: unknown; socket?: { remoteAddress?: unknown } } | undefined;
  const ip = typeof req?.ip === 'string' && req.ip !== '' ? req.ip : req?.socket?.remoteAddress;
  return typeof ip === 'string' && ip !== '' ? addressBlock(ip) : undefined;
}

/**
 * The unit a limit applies to: an IPv4 address as is (also when IPv4-mapped, `::ffff:1.2.3.4`), an
 * IPv6 address by its /64, because one subscriber usually holds a whole /64 and could otherwise
 * rotate through 2^64 addresses, each with a fresh budget.
 */
export function addressBlock(address: string): string {
  const mapped = /^::ffff:(\d{1,3}(?:\.\d{1,3}){3})$/i.exec(address);
  if (mapped) return mapped[1]!;
  if (!isIPv6(address)) return address;
  const groups = expandIPv6(address.split('%')[0]!);
  return `${groups.slice(0, 4).join(':')}::/64`;
}

/** The eight groups of a valid IPv6 address, without leading zeros; an embedded IPv4 tail counts as two. */
function expandIPv6(address: string): string[] {
  const [head = '', tail] = address.split('::');
  const split = (part: string) => (part === '' ? [] : part.split(':').flatMap((group) => (group.includes('.') ? ['0', '0'] : [group])));
  const headGroups = split(head);
  const tailGroups = tail === undefined ? [] : split(tail);
  const zeros = Array<string>(8 - headGroups.length - tailGroups.length).fill('0');
  return [...headGroups, ...zeros, ...tailGroups].map((group) => parseInt(group, 16).toString(16));
}
