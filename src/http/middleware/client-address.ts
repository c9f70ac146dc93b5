import { isIPv4, isIPv6 } from 'node:net';

/**
 * The part of a client address that names one client, for counting anonymous callers: an IPv4
 * address as it is; an IPv4-mapped IPv6 address (`::ffff:10.0.0.9`, as a dual-stack socket
 * reports an IPv4 peer) as that IPv4 address, so one client has one counter whichever way it
 * arrives; any other IPv6 address as its /64, since one client usually holds a whole /64 and
 * could otherwise rotate through its own addresses to escape a limit. Anything else (what a
 * trusted proxy wrote that is not an address) is kept as it is.
 */
export function addressKey(ip: string): string {
  const address = ip.replace(/%.*$/, ''); // a zone index (fe80::1%eth0) names no client
  if (!isIPv6(address)) return ip;
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
