// IP addresses and CIDRs, as Kubernetes validates them (netutils.ParseIPSloppy,
// ParseCIDRSloppy): dotted-quad IPv4 and RFC 4291 text IPv6, without zones.
// Pure code, so validation runs anywhere (no node:net).

const IPV4_OCTET = /^(?:0|[1-9][0-9]{0,2}|0[0-9]{1,2})$/;

/** A dotted-quad IPv4 address ("10.0.0.1"); leading zeros are accepted, as Go's sloppy parser does. */
export function isIPv4(text: string): boolean {
  const parts = text.split(".");
  return parts.length === 4 && parts.every((p) => IPV4_OCTET.test(p) && Number(p) <= 255);
}

/** An IPv6 address in RFC 4291 text form, optionally ending in a dotted-quad IPv4. */
export function isIPv6(text: string): boolean {
  if (text.length === 0 || text.includes("%")) return false;
  const halves = text.split("::");
  if (halves.length > 2) return false;
  const groups = (half: string): string[] | undefined => (half === "" ? [] : half.split(":"));
  const head = groups(halves[0] as string);
  const tail = halves.length === 2 ? groups(halves[1] as string) : [];
  if (head === undefined || tail === undefined) return false;
  const all = [...head, ...tail];
  let count = all.length;
  const last = all[all.length - 1];
  if (last?.includes(".")) {
    if (!isIPv4(last)) return false;
    all.pop();
    count += 1;
  }
  if (!all.every((g) => /^[0-9a-fA-F]{1,4}$/.test(g))) return false;
  return halves.length === 2 ? count <= 7 : count === 8;
}

export function isIP(text: string): boolean {
  return isIPv4(text) || isIPv6(text);
}

/** A CIDR ("10.244.0.0/16", "fd00::/64"); the prefix length fits the family. */
export function isCIDR(text: string): boolean {
  const slash = text.indexOf("/");
  if (slash < 0) return false;
  const address = text.slice(0, slash);
  const bits = text.slice(slash + 1);
  if (!/^[0-9]{1,3}$/.test(bits)) return false;
  const prefix = Number(bits);
  if (isIPv4(address)) return prefix <= 32;
  if (isIPv6(address)) return prefix <= 128;
  return false;
}

/** "must be a valid IP address, (e.g. 10.9.8.7 or 2001:db8::ffff)" (validation.IsValidIP). */
export const INVALID_IP = "must be a valid IP address, (e.g. 10.9.8.7 or 2001:db8::ffff)";
/** "must be a valid CIDR value, (e.g. 10.9.8.0/24 or 2001:db8::/64)" (validation.IsValidCIDR). */
export const INVALID_CIDR = "must be a valid CIDR value, (e.g. 10.9.8.0/24 or 2001:db8::/64)";
