import type { Context } from 'koa';
import { isIP, isIPv4, isIPv6 } from 'node:net';

/** The caller id of an anonymous request: its address as addressKey groups it. */
export function anonymousCallerId(ctx: Context): string {
  return `ip:${addressKey(ctx.ip, ctx.req.socket?.remoteAddress)}`;
}

/**
 * The part of a client address that names one client, for counting anonymous callers: an IPv4
 * address as it is; an IPv4-mapped IPv6 address (`::ffff:10.0.0.9`, as a dual-stack socket
 * reports an IPv4 peer) as that IPv4 address, so one client has one counter whichever way it
 * arrives; any other IPv6 address as its /64, since one client usually holds a whole /64 and
 * could otherwise rotate through its own addresses to escape a limit.
 *
 * `ip` is what Koa says (from X-Forwarded-For when proxies are trusted): a proxy may write a
 * port (`1.2.3.4:5678`) or brackets (`[2001:db8::1]:443`), which are dropped. Anything still not
 * an address is not trusted to name a client, or every junk string would get a counter of its
 * own: the connection's own address (`socketAddress`) is used instead.
 */
export function addressKey(ip: string, socketAddress?: string): string {
  const address = parseAddress(ip) ?? parseAddress(socketAddress ?? '');
  if (address === undefined) return 'unknown';
  if (!isIPv6(address)) return address;
  const groups = ipv6Groups(address);
  if (groups.slice(0, 5).every((group) => group === 0) && groups[5] === 0xffff) {
    const [high = 0, low = 0] = groups.slice(6);
    return [high >> 8, high & 0xff, low >> 8, low & 0xff].join('.');
  }
  return `${groups
    .slice(0, 4)
    .map((group) => group.toString(16))
    .join(':')}::/64`;
}

/**
 * An IP address written as proxies and sockets write one: `[v6]` or `[v6]:port`, `v4:port`, a
 * zone index (`fe80::1%eth0`, which names no client); undefined when it is no address at all.
 */
function parseAddress(text: string): string | undefined {
  let address = text.trim();
  const bracketed = /^\[([^\]]*)\](?::\d{1,5})?$/.exec(address);
  if (bracketed !== null) address = bracketed[1] ?? '';
  else if (/^[^:]*:\d{1,5}$/.test(address)) address = address.slice(0, address.lastIndexOf(':'));
  address = address.replace(/%.*$/, '');
  return isIP(address) === 0 ? undefined : address;
}

/** The eight 16-bit groups of a valid IPv6 address, `::` expanded, a dotted IPv4 tail split. */
function ipv6Groups(address: string): number[] {
  const [head = '', tail] = address.split('::');
  const parse = (part: string): number[] =>
    part === ''
      ? []
      : part.split(':').flatMap((group) => {
          if (!isIPv4(group)) return [Number.parseInt(group, 16)];
          const [a = 0, b = 0, c = 0, d = 0] = group.split('.').map(Number);
          return [(a << 8) | b, (c << 8) | d];
        });
  const headGroups = parse(head);
  const tailGroups = tail === undefined ? [] : parse(tail);
  const zeros = Array<number>(8 - headGroups.length - tailGroups.length).fill(0);
  return [...headGroups, ...zeros, ...tailGroups];
}
