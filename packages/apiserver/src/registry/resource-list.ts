// ResourceList (map<string, string> of resource name to quantity text, as containers' requests
// and limits, quotas' hard and used) read as exact quantities.

import { Quantity } from "@tug/api";

/** Resource name → quantity. */
export type ResourceQuantities = Map<string, Quantity>;

/**
 * The quantities of a ResourceList. Entries whose text is not a quantity are left out: this
 * runs in admission, and validation reports bad quantities with their field path.
 */
export function readResourceList(
  list: Readonly<Record<string, string>> | undefined,
): ResourceQuantities {
  const out: ResourceQuantities = new Map();
  for (const [name, text] of Object.entries(list ?? {})) {
    const q = parseOrUndefined(text);
    if (q !== undefined) out.set(name, q);
  }
  return out;
}

/** The quantity of `text`, or undefined when it is not one. */
export function parseOrUndefined(text: string): Quantity | undefined {
  try {
    return Quantity.parse(text);
  } catch {
    return undefined;
  }
}

/** Adds `q` to the entry `name` of `into` (absent counts as zero). */
export function addTo(into: ResourceQuantities, name: string, q: Quantity): void {
  const current = into.get(name);
  into.set(name, current === undefined ? q : current.add(q));
}

/** A ResourceList with every quantity in canonical form, keys sorted. */
export function writeResourceList(list: ResourceQuantities): Record<string, string> {
  const out: Record<string, string> = {};
  for (const name of [...list.keys()].sort()) out[name] = (list.get(name) as Quantity).toString();
  return out;
}
