// Resource quantities ("500m", "1.5", "128Mi", "1e3"): Kubernetes' resource.Quantity.
//
// Grammar, rounding and canonical form follow k8s.io/apimachinery/pkg/api/resource and
// https://kubernetes.io/docs/reference/kubernetes-api/common-definitions/quantity/ :
//
//   <quantity>        ::= <signedNumber><suffix>
//   <signedNumber>    ::= <number> | +<number> | -<number>
//   <number>          ::= <digits> | <digits>.<digits> | <digits>. | .<digits>
//   <suffix>          ::= <binarySI> | <decimalExponent> | <decimalSI>
//   <binarySI>        ::= Ki | Mi | Gi | Ti | Pi | Ei
//   <decimalSI>       ::= n | u | m | "" | k | M | G | T | P | E
//   <decimalExponent> ::= "e" <signedNumber> | "E" <signedNumber>
//
// A value is held exactly as a bigint count of nano-units, so arithmetic never drifts
// ("100m" + "0.9" is exactly 1). Like Kubernetes, precision finer than 1n is rounded up (away
// from zero): whoever asks for a tiny non-zero amount of a resource gets some of it.

/**
 * How a quantity prints: the family of its suffix. Parsing records the family of the input's
 * suffix, and formatting keeps it ("1024Mi" prints "1Gi", never "1073741824").
 */
export type QuantityFormat = "DecimalSI" | "BinarySI" | "DecimalExponent";

/** Kubernetes' regular expression for a quantity, quoted in its error message. */
const QUANTITY_REGEX_TEXT = "^([+-]?[0-9.]+)([eEinumkKMGTP]*[-+]?[0-9]*)$";

/** Kubernetes' error texts (resource.ErrFormatWrong, ErrSuffix, ErrNumeric). */
export const QUANTITY_FORMAT_WRONG = `quantities must match the regular expression '${QUANTITY_REGEX_TEXT}'`;
export const QUANTITY_SUFFIX_WRONG = "unable to parse quantity's suffix";
export const QUANTITY_NUMERIC_WRONG = "unable to parse numeric part of quantity";

/** The largest decimal exponent accepted, so that "1e999999999" cannot exhaust memory. */
export const MAX_QUANTITY_EXPONENT = 1000;

const ACCEPTED_FORMS =
  'a number with an optional sign and suffix: n, u, m, k, M, G, T, P, E, Ki, Mi, Gi, Ti, Pi, Ei or an exponent e<integer> (e.g. "500m", "1.5", "128Mi", "2Gi", "1e3")';

/**
 * Thrown for text that is not a quantity. `reason` is Kubernetes' own text for the problem
 * (what validation puts after `Invalid value: "<text>": `); `message` also quotes the input
 * and lists the accepted forms.
 */
export class QuantityError extends Error {
  override readonly name = "QuantityError";
  readonly code = "invalid_argument";

  constructor(
    /** The text that failed to parse. */
    readonly text: string,
    /** Kubernetes' text for the problem, e.g. {@link QUANTITY_FORMAT_WRONG}. */
    readonly reason: string,
  ) {
    super(
      `unable to parse quantity ${JSON.stringify(text)}: ${reason}; expected ${ACCEPTED_FORMS}`,
    );
  }
}

const NANO_PER_UNIT = 1_000_000_000n;

/** Decimal SI suffixes and their power of ten. */
const DECIMAL_SUFFIX_EXPONENT: ReadonlyMap<string, number> = new Map([
  ["n", -9],
  ["u", -6],
  ["m", -3],
  ["", 0],
  ["k", 3],
  ["M", 6],
  ["G", 9],
  ["T", 12],
  ["P", 15],
  ["E", 18],
]);
const DECIMAL_SUFFIX_OF_EXPONENT: ReadonlyMap<number, string> = new Map(
  [...DECIMAL_SUFFIX_EXPONENT].map(([suffix, exponent]) => [exponent, suffix]),
);
const LARGEST_DECIMAL_SUFFIX_EXPONENT = 18;

/** Binary SI suffixes and their power of 1024. */
const BINARY_SUFFIX_POWER: ReadonlyMap<string, number> = new Map([
  ["Ki", 1],
  ["Mi", 2],
  ["Gi", 3],
  ["Ti", 4],
  ["Pi", 5],
  ["Ei", 6],
]);
const BINARY_SUFFIX_OF_POWER: readonly string[] = ["", "Ki", "Mi", "Gi", "Ti", "Pi", "Ei"];
const LARGEST_BINARY_SUFFIX_POWER = 6;

/**
 * Splits a quantity into sign, integer digits, fraction digits and suffix. The suffix part has
 * the shape Kubernetes' scanner accepts (suffix letters, an optional sign, digits); whether it
 * names a real suffix is decided afterwards.
 */
const QUANTITY_SHAPE = /^([+-]?)([0-9]*)(?:\.([0-9]*))?([eEinumkKMGTP]*[-+]?[0-9]*)$/;
const EXPONENT_SUFFIX = /^[eE]([-+]?[0-9]+)$/;

/** Divides, rounding the quotient away from zero (Kubernetes rounds resource amounts up). */
function divideAwayFromZero(n: bigint, d: bigint): bigint {
  const q = n / d;
  if (q * d === n) return q;
  return n < 0n ? q - 1n : q + 1n;
}

function abs(n: bigint): bigint {
  return n < 0n ? -n : n;
}

/**
 * An exact resource amount with the format it prints in. Immutable: arithmetic returns new
 * quantities. Construct with {@link Quantity.parse} or the `from*` factories.
 */
export class Quantity {
  private canonical: string | undefined;

  private constructor(
    /** The amount in nano-units (1 = 1n, 10^9 = 1). */
    readonly nanos: bigint,
    readonly format: QuantityFormat,
  ) {}

  /** Zero, printed "0". */
  static readonly ZERO: Quantity = new Quantity(0n, "DecimalSI");

  /**
   * Parses Kubernetes' quantity grammar. Throws {@link QuantityError} for anything else. Unlike
   * Kubernetes' scanner, text without a single digit ("", ".", "Mi") is rejected rather than
   * read as zero.
   */
  static parse(text: string): Quantity {
    const shape = QUANTITY_SHAPE.exec(text);
    if (shape === null) throw new QuantityError(text, QUANTITY_FORMAT_WRONG);
    const [, sign = "", whole = "", fraction = "", suffix = ""] = shape;
    if (whole.length === 0 && fraction.length === 0) {
      // Kubernetes' scanner reads these as zero; text without a digit is a typo, not a zero.
      const reason = text.includes(".") ? QUANTITY_NUMERIC_WRONG : QUANTITY_FORMAT_WRONG;
      throw new QuantityError(text, reason);
    }

    let format: QuantityFormat;
    let exponent10 = 0;
    let power1024 = 0;
    const decimal = DECIMAL_SUFFIX_EXPONENT.get(suffix);
    const binary = BINARY_SUFFIX_POWER.get(suffix);
    const exponentForm = EXPONENT_SUFFIX.exec(suffix);
    if (decimal !== undefined) {
      format = "DecimalSI";
      exponent10 = decimal;
    } else if (binary !== undefined) {
      format = "BinarySI";
      power1024 = binary;
    } else if (exponentForm !== null) {
      format = "DecimalExponent";
      exponent10 = Number.parseInt(exponentForm[1] as string, 10);
      if (Math.abs(exponent10) > MAX_QUANTITY_EXPONENT) {
        throw new QuantityError(
          text,
          `the exponent must be between -${MAX_QUANTITY_EXPONENT} and ${MAX_QUANTITY_EXPONENT}`,
        );
      }
    } else {
      throw new QuantityError(text, QUANTITY_SUFFIX_WRONG);
    }

    // value = digits × 10^(exponent10 − fraction digits) × 1024^power1024; count it in nanos.
    let magnitude = BigInt(whole + fraction || "0") * (1n << BigInt(10 * power1024));
    const shift = exponent10 - fraction.length + 9;
    if (shift >= 0) magnitude *= 10n ** BigInt(shift);
    else magnitude = divideAwayFromZero(magnitude, 10n ** BigInt(-shift));

    // Amounts below one unit have no binary suffix to print with (Kubernetes does the same).
    if (format === "BinarySI" && magnitude > 0n && magnitude < NANO_PER_UNIT) format = "DecimalSI";
    return new Quantity(sign === "-" ? -magnitude : magnitude, format);
  }

  /**
   * A quantity as it appears in a manifest: a string, or a bare YAML/JSON number
   * (`cpu: 2`, `cpu: 0.5`), which Kubernetes also accepts and reads as its decimal text.
   */
  static fromJson(value: string | number): Quantity {
    return Quantity.parse(typeof value === "number" ? String(value) : value);
  }

  /** The quantity of `nanos` nano-units. */
  static fromNanos(nanos: bigint, format: QuantityFormat = "DecimalSI"): Quantity {
    return new Quantity(nanos, format);
  }

  /** The quantity of `milli` thousandths (resource.NewMilliQuantity): fromMilli(1500) is "1500m". */
  static fromMilli(milli: bigint | number, format: QuantityFormat = "DecimalSI"): Quantity {
    return new Quantity(integer(milli, "milli") * 1_000_000n, format);
  }

  /** The quantity of `value` units (resource.NewQuantity): fromValue(1024, "BinarySI") is "1Ki". */
  static fromValue(value: bigint | number, format: QuantityFormat = "DecimalSI"): Quantity {
    return new Quantity(integer(value, "value") * NANO_PER_UNIT, format);
  }

  isZero(): boolean {
    return this.nanos === 0n;
  }

  /** -1, 0 or 1 as the quantity is negative, zero or positive. */
  sign(): -1 | 0 | 1 {
    return this.nanos < 0n ? -1 : this.nanos > 0n ? 1 : 0;
  }

  /** -1, 0 or 1 as this quantity is less than, equal to or greater than `other`. */
  cmp(other: Quantity): -1 | 0 | 1 {
    return this.nanos < other.nanos ? -1 : this.nanos > other.nanos ? 1 : 0;
  }

  /** Equal amounts, whatever their formats ("1Ki" equals "1024"). */
  equals(other: Quantity): boolean {
    return this.nanos === other.nanos;
  }

  /** The sum, in this quantity's format, or in `other`'s when this one is zero (as Kubernetes). */
  add(other: Quantity): Quantity {
    return new Quantity(this.nanos + other.nanos, this.nanos === 0n ? other.format : this.format);
  }

  /** The difference, in this quantity's format, or in `other`'s when this one is zero. */
  sub(other: Quantity): Quantity {
    return new Quantity(this.nanos - other.nanos, this.nanos === 0n ? other.format : this.format);
  }

  neg(): Quantity {
    return new Quantity(-this.nanos, this.format);
  }

  /**
   * The amount in units of 10^scale, rounded away from zero (resource.Quantity.ScaledValue):
   * scaledValue(-3) of "1.0001" is 1001, scaledValue(3) of "1500" is 2.
   */
  scaledValue(scale: number): bigint {
    if (!Number.isInteger(scale)) throw new RangeError(`scale must be an integer, got ${scale}`);
    const shift = scale + 9;
    if (shift <= 0) return this.nanos * 10n ** BigInt(-shift);
    return divideAwayFromZero(this.nanos, 10n ** BigInt(shift));
  }

  /** The amount in whole units, rounded away from zero ("100m" is 1, "-1.5" is -2). */
  value(): bigint {
    return this.scaledValue(0);
  }

  /** The amount in thousandths, rounded away from zero ("1.5" is 1500, "1n" is 1). */
  milliValue(): bigint {
    return this.scaledValue(-3);
  }

  /** The nearest float: for display and ratios only, never for accounting. */
  toNumber(): number {
    const whole = this.nanos / NANO_PER_UNIT;
    return Number(whole) + Number(this.nanos - whole * NANO_PER_UNIT) / 1e9;
  }

  /** The canonical text, as Kubernetes prints it: "1500m", "1Gi", "12e6", "0". */
  toString(): string {
    this.canonical ??= formatCanonical(this.nanos, this.format);
    return this.canonical;
  }

  /** Quantities serialize as their canonical text, as in Kubernetes' JSON. */
  toJSON(): string {
    return this.toString();
  }
}

/** {@link Quantity.parse} as a function. */
export function parseQuantity(text: string): Quantity {
  return Quantity.parse(text);
}

function integer(n: bigint | number, what: string): bigint {
  if (typeof n === "bigint") return n;
  if (!Number.isSafeInteger(n)) {
    throw new RangeError(`${what} must be a safe integer or a bigint, got ${n}`);
  }
  return BigInt(n);
}

/**
 * Kubernetes' canonical form (Quantity.CanonicalizeBytes): the largest suffix that leaves an
 * integer mantissa. Binary quantities below 1024 in magnitude, or with a fractional part,
 * print in decimal SI so that nothing is rounded. Decimal mantissas carry the trailing zeros
 * that bring their exponent to a multiple of three ("1500m", "1200", "12k").
 */
function formatCanonical(nanos: bigint, format: QuantityFormat): string {
  if (nanos === 0n) return "0";
  if (
    format === "BinarySI" &&
    abs(nanos) >= 1024n * NANO_PER_UNIT &&
    nanos % NANO_PER_UNIT === 0n
  ) {
    let mantissa = nanos / NANO_PER_UNIT;
    let power = 0;
    while (power < LARGEST_BINARY_SUFFIX_POWER && mantissa % 1024n === 0n) {
      mantissa /= 1024n;
      power++;
    }
    return `${mantissa}${BINARY_SUFFIX_OF_POWER[power]}`;
  }

  let mantissa = nanos;
  let exponent = -9;
  while (mantissa % 10n === 0n) {
    mantissa /= 10n;
    exponent++;
  }
  const excess = ((exponent % 3) + 3) % 3;
  mantissa *= 10n ** BigInt(excess);
  exponent -= excess;

  if (format === "DecimalExponent")
    return exponent === 0 ? `${mantissa}` : `${mantissa}e${exponent}`;
  if (exponent > LARGEST_DECIMAL_SUFFIX_EXPONENT) {
    mantissa *= 10n ** BigInt(exponent - LARGEST_DECIMAL_SUFFIX_EXPONENT);
    exponent = LARGEST_DECIMAL_SUFFIX_EXPONENT;
  }
  return `${mantissa}${DECIMAL_SUFFIX_OF_EXPONENT.get(exponent)}`;
}
