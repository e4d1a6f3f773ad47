// metadata.generateName: a prefix the API server completes with random characters, as
// Kubernetes' SimpleNameGenerator does (k8s.io/apiserver/pkg/storage/names). Retrying on
// AlreadyExists is the caller's job; this module only makes candidate names.

/** Kubernetes' alphabet for generated suffixes: no vowels (no words), no 0/1/3 (no look-alikes). */
export const NAME_SUFFIX_ALPHABET = "bcdfghjklmnpqrstvwxz2456789";

/** Length of the random suffix. */
export const NAME_SUFFIX_LENGTH = 5;

/** Longest object name Kubernetes generates (a DNS label). */
const MAX_NAME_LENGTH = 63;

/** A prefix longer than this is cut so that prefix + suffix stays a valid name. */
export const MAX_GENERATE_NAME_PREFIX_LENGTH = MAX_NAME_LENGTH - NAME_SUFFIX_LENGTH;

/** Uniform in [0, 1), like Math.random; injected so tests are deterministic. */
export type RandomSource = () => number;

/**
 * `base` (cut to 58 characters) followed by 5 characters drawn from
 * {@link NAME_SUFFIX_ALPHABET}: generateName "web-" gives e.g. "web-x7k2q".
 */
export function generateName(base: string, random: RandomSource): string {
  const prefix =
    base.length > MAX_GENERATE_NAME_PREFIX_LENGTH
      ? base.slice(0, MAX_GENERATE_NAME_PREFIX_LENGTH)
      : base;
  let suffix = "";
  for (let i = 0; i < NAME_SUFFIX_LENGTH; i++) {
    const index = Math.min(
      Math.floor(random() * NAME_SUFFIX_ALPHABET.length),
      NAME_SUFFIX_ALPHABET.length - 1,
    );
    suffix += NAME_SUFFIX_ALPHABET[index];
  }
  return prefix + suffix;
}
