// Name rules: DNS-1123 subdomains and labels, DNS-1035 labels, qualified names (label and
// annotation keys), label values, C identifiers, environment variable names, config keys,
// port names and numbers.
//
// Each check returns the list of problems found, empty when the value is valid, worded exactly
// as k8s.io/apimachinery/pkg/util/validation words them (IsDNS1123Subdomain and friends), so
// that callers wrap them in a FieldError.invalid(path, value, problem) and print what the
// Kubernetes API server prints. Lengths are counted in UTF-8 bytes, as Go's len() counts them.
// Reference: https://kubernetes.io/docs/concepts/overview/working-with-objects/names/

/** The length of `value` in UTF-8 bytes (a lone surrogate counts as U+FFFD, 3 bytes). */
function byteLength(value: string): number {
  let bytes = 0;
  for (const ch of value) {
    const cp = ch.codePointAt(0) as number;
    bytes += cp < 0x80 ? 1 : cp < 0x800 ? 2 : cp < 0x10000 ? 3 : 4;
  }
  return bytes;
}

/** "must be no more than N characters" (validation.MaxLenError). */
export function maxLenError(length: number): string {
  return `must be no more than ${length} characters`;
}

/** "must be non-empty" (validation.EmptyError). */
export function emptyError(): string {
  return "must be non-empty";
}

/**
 * A rule broken by a value that does not match `regex`, with examples of valid values
 * (validation.RegexError): `<msg> (e.g. 'a' or 'b', regex used for validation is '<regex>')`.
 */
export function regexError(msg: string, regex: string, ...examples: string[]): string {
  if (examples.length === 0) return `${msg} (regex used for validation is '${regex}')`;
  const quoted = examples.map((e) => `'${e}', `).join("or ");
  return `${msg} (e.g. ${quoted}regex used for validation is '${regex}')`;
}

/** Anchors a regex source for whole-string matching. */
function whole(source: string): RegExp {
  return new RegExp(`^(?:${source})$`);
}

const DNS1123_LABEL_FMT = "[a-z0-9]([-a-z0-9]*[a-z0-9])?";
const DNS1123_LABEL_ERR =
  "a lowercase RFC 1123 label must consist of lower case alphanumeric characters or '-', and must start and end with an alphanumeric character";
/** The longest DNS-1123 label (RFC 1123 §2.1): 63 bytes. */
export const DNS1123_LABEL_MAX_LENGTH = 63;
const DNS1123_LABEL_RE = whole(DNS1123_LABEL_FMT);

const DNS1123_SUBDOMAIN_FMT = `${DNS1123_LABEL_FMT}(\\.${DNS1123_LABEL_FMT})*`;
const DNS1123_SUBDOMAIN_ERR =
  "a lowercase RFC 1123 subdomain must consist of lower case alphanumeric characters, '-' or '.', and must start and end with an alphanumeric character";
/** The longest DNS-1123 subdomain: 253 bytes. */
export const DNS1123_SUBDOMAIN_MAX_LENGTH = 253;
const DNS1123_SUBDOMAIN_RE = whole(DNS1123_SUBDOMAIN_FMT);

const DNS1035_LABEL_FMT = "[a-z]([-a-z0-9]*[a-z0-9])?";
const DNS1035_LABEL_ERR =
  "a DNS-1035 label must consist of lower case alphanumeric characters or '-', start with an alphabetic character, and end with an alphanumeric character";
/** The longest DNS-1035 label: 63 bytes. */
export const DNS1035_LABEL_MAX_LENGTH = 63;
const DNS1035_LABEL_RE = whole(DNS1035_LABEL_FMT);

/**
 * A DNS-1123 label (RFC 1123): at most 63 lower case alphanumerics or '-', starting and ending
 * with an alphanumeric. Most namespaced names that become host names use it.
 */
export function isDns1123Label(value: string): string[] {
  const errs: string[] = [];
  if (byteLength(value) > DNS1123_LABEL_MAX_LENGTH)
    errs.push(maxLenError(DNS1123_LABEL_MAX_LENGTH));
  if (!DNS1123_LABEL_RE.test(value)) {
    // A valid subdomain that is not a valid label can only be wrong because of its dots.
    if (DNS1123_SUBDOMAIN_RE.test(value)) errs.push("must not contain dots");
    else errs.push(regexError(DNS1123_LABEL_ERR, DNS1123_LABEL_FMT, "my-name", "123-abc"));
  }
  return errs;
}

/**
 * A DNS-1123 subdomain: dot-separated DNS-1123 labels, at most 253 bytes in all. The rule for
 * most object names (metadata.name).
 */
export function isDns1123Subdomain(value: string): string[] {
  const errs: string[] = [];
  if (byteLength(value) > DNS1123_SUBDOMAIN_MAX_LENGTH) {
    errs.push(maxLenError(DNS1123_SUBDOMAIN_MAX_LENGTH));
  }
  if (!DNS1123_SUBDOMAIN_RE.test(value)) {
    errs.push(regexError(DNS1123_SUBDOMAIN_ERR, DNS1123_SUBDOMAIN_FMT, "example.com"));
  }
  return errs;
}

/**
 * A DNS-1035 label (RFC 1035): like a DNS-1123 label but starting with a letter. The rule for
 * Service names, which become DNS names that must not look like numbers.
 */
export function isDns1035Label(value: string): string[] {
  const errs: string[] = [];
  if (byteLength(value) > DNS1035_LABEL_MAX_LENGTH)
    errs.push(maxLenError(DNS1035_LABEL_MAX_LENGTH));
  if (!DNS1035_LABEL_RE.test(value)) {
    errs.push(regexError(DNS1035_LABEL_ERR, DNS1035_LABEL_FMT, "my-name", "abc-123"));
  }
  return errs;
}

const QNAME_CHAR_FMT = "[A-Za-z0-9]";
const QNAME_EXT_CHAR_FMT = "[-A-Za-z0-9_.]";
const QUALIFIED_NAME_FMT = `(${QNAME_CHAR_FMT}${QNAME_EXT_CHAR_FMT}*)?${QNAME_CHAR_FMT}`;
const QUALIFIED_NAME_ERR =
  "must consist of alphanumeric characters, '-', '_' or '.', and must start and end with an alphanumeric character";
/** The longest name part of a qualified name: 63 bytes. */
export const QUALIFIED_NAME_MAX_LENGTH = 63;
const QUALIFIED_NAME_RE = whole(QUALIFIED_NAME_FMT);

/**
 * A qualified name: an optional DNS-1123 subdomain prefix and '/', then a name of at most 63
 * alphanumerics, '-', '_' or '.' that starts and ends with an alphanumeric. The rule for label
 * and annotation keys (`app.kubernetes.io/name`, `tier`).
 */
export function isQualifiedName(value: string): string[] {
  const errs: string[] = [];
  const parts = value.split("/");
  let name: string;
  if (parts.length === 1) {
    name = parts[0] as string;
  } else if (parts.length === 2) {
    const prefix = parts[0] as string;
    name = parts[1] as string;
    if (prefix.length === 0) errs.push(`prefix part ${emptyError()}`);
    else errs.push(...isDns1123Subdomain(prefix).map((msg) => `prefix part ${msg}`));
  } else {
    return [
      `a qualified name ${regexError(QUALIFIED_NAME_ERR, QUALIFIED_NAME_FMT, "MyName", "my.name", "123-abc")} with an optional DNS subdomain prefix and '/' (e.g. 'example.com/MyName')`,
    ];
  }
  if (name.length === 0) errs.push(`name part ${emptyError()}`);
  else if (byteLength(name) > QUALIFIED_NAME_MAX_LENGTH) {
    errs.push(`name part ${maxLenError(QUALIFIED_NAME_MAX_LENGTH)}`);
  }
  if (!QUALIFIED_NAME_RE.test(name)) {
    errs.push(
      `name part ${regexError(QUALIFIED_NAME_ERR, QUALIFIED_NAME_FMT, "MyName", "my.name", "123-abc")}`,
    );
  }
  return errs;
}

const LABEL_VALUE_FMT = `(${QUALIFIED_NAME_FMT})?`;
const LABEL_VALUE_ERR =
  "a valid label must be an empty string or consist of alphanumeric characters, '-', '_' or '.', and must start and end with an alphanumeric character";
/** The longest label value: 63 bytes. */
export const LABEL_VALUE_MAX_LENGTH = 63;
const LABEL_VALUE_RE = whole(LABEL_VALUE_FMT);

/** A label value: empty, or up to 63 alphanumerics, '-', '_' or '.', alphanumeric at both ends. */
export function isValidLabelValue(value: string): string[] {
  const errs: string[] = [];
  if (byteLength(value) > LABEL_VALUE_MAX_LENGTH) errs.push(maxLenError(LABEL_VALUE_MAX_LENGTH));
  if (!LABEL_VALUE_RE.test(value)) {
    errs.push(regexError(LABEL_VALUE_ERR, LABEL_VALUE_FMT, "MyValue", "my_value", "12345"));
  }
  return errs;
}

const C_IDENTIFIER_FMT = "[A-Za-z_][A-Za-z0-9_]*";
const C_IDENTIFIER_ERR =
  "a valid C identifier must start with alphabetic character or '_', followed by a string of alphanumeric characters or '_'";
const C_IDENTIFIER_RE = whole(C_IDENTIFIER_FMT);

/** A C identifier: a letter or '_', then letters, digits or '_'. */
export function isCIdentifier(value: string): string[] {
  if (C_IDENTIFIER_RE.test(value)) return [];
  return [regexError(C_IDENTIFIER_ERR, C_IDENTIFIER_FMT, "my_name", "MY_NAME", "MyName")];
}

const ENV_VAR_NAME_FMT = "[-._a-zA-Z][-._a-zA-Z0-9]*";
const ENV_VAR_NAME_ERR =
  "a valid environment variable name must consist of alphabetic characters, digits, '_', '-', or '.', and must not start with a digit";
const ENV_VAR_NAME_RE = whole(ENV_VAR_NAME_FMT);

/** The names that would let a file name built from the value climb out of its directory. */
function chdirPrefixErrors(value: string): string[] {
  if (value === ".") return ["must not be '.'"];
  if (value === "..") return ["must not be '..'"];
  if (value.startsWith("..")) return ["must not start with '..'"];
  return [];
}

/**
 * An environment variable name (container env[].name): letters, digits, '_', '-' or '.', not
 * starting with a digit, and not '.', '..' or starting with '..'.
 */
export function isEnvVarName(value: string): string[] {
  const errs: string[] = [];
  if (!ENV_VAR_NAME_RE.test(value)) {
    errs.push(
      regexError(ENV_VAR_NAME_ERR, ENV_VAR_NAME_FMT, "my.env-name", "MY_ENV.NAME", "MyEnvName1"),
    );
  }
  errs.push(...chdirPrefixErrors(value));
  return errs;
}

const CONFIG_MAP_KEY_FMT = "[-._a-zA-Z0-9]+";
const CONFIG_MAP_KEY_ERR =
  "a valid config key must consist of alphanumeric characters, '-', '_' or '.'";
const CONFIG_MAP_KEY_RE = whole(CONFIG_MAP_KEY_FMT);

/**
 * A ConfigMap or Secret data key: at most 253 alphanumerics, '-', '_' or '.', and not '.',
 * '..' or starting with '..' (keys become file names in volumes).
 */
export function isConfigMapKey(value: string): string[] {
  const errs: string[] = [];
  if (byteLength(value) > DNS1123_SUBDOMAIN_MAX_LENGTH) {
    errs.push(maxLenError(DNS1123_SUBDOMAIN_MAX_LENGTH));
  }
  if (!CONFIG_MAP_KEY_RE.test(value)) {
    errs.push(
      regexError(CONFIG_MAP_KEY_ERR, CONFIG_MAP_KEY_FMT, "key.name", "KEY_NAME", "key-name"),
    );
  }
  errs.push(...chdirPrefixErrors(value));
  return errs;
}

/** The longest IANA service name (RFC 6335 §5.1): 15 characters. */
export const PORT_NAME_MAX_LENGTH = 15;
const PORT_NAME_CHARSET_RE = /^[-a-z0-9]+$/;
const PORT_NAME_ONE_LETTER_RE = /[a-z]/;

/**
 * A port name, an IANA_SVC_NAME (RFC 6335 §5.1): at most 15 lower case alphanumerics or '-',
 * with at least one letter, no '--', and no '-' at either end.
 */
export function isValidPortName(port: string): string[] {
  const errs: string[] = [];
  if (byteLength(port) > PORT_NAME_MAX_LENGTH) errs.push(maxLenError(PORT_NAME_MAX_LENGTH));
  if (!PORT_NAME_CHARSET_RE.test(port)) {
    errs.push("must contain only alpha-numeric characters (a-z, 0-9), and hyphens (-)");
  }
  if (!PORT_NAME_ONE_LETTER_RE.test(port)) errs.push("must contain at least one letter (a-z)");
  if (port.includes("--")) errs.push("must not contain consecutive hyphens (--)");
  if (port.startsWith("-") || port.endsWith("-")) {
    errs.push("must not begin or end with a hyphen (-)");
  }
  return errs;
}

/** A port number: an integer from 1 to 65535. */
export function isValidPortNum(port: number): string[] {
  if (Number.isInteger(port) && port >= 1 && port <= 65535) return [];
  return ["must be between 1 and 65535, inclusive"];
}

/**
 * A name-validation function as object validation uses it: `prefix` is true when `name` is a
 * metadata.generateName prefix, which may end in '-' because random characters follow it.
 */
export type NameValidator = (name: string, prefix: boolean) => string[];

/** Lets a generateName prefix end in '-' by checking it as if a name character replaced it. */
function maskTrailingDash(name: string): string {
  return name.length > 1 && name.endsWith("-") ? `${name.slice(0, -1)}a` : name;
}

/** Object names that must be DNS-1123 subdomains (most kinds: Pod, ConfigMap, Deployment...). */
export const nameIsDnsSubdomain: NameValidator = (name, prefix) =>
  isDns1123Subdomain(prefix ? maskTrailingDash(name) : name);

/** Object names that must be DNS-1123 labels (Namespace). */
export const nameIsDnsLabel: NameValidator = (name, prefix) =>
  isDns1123Label(prefix ? maskTrailingDash(name) : name);

/** Object names that must be DNS-1035 labels (Service). */
export const nameIsDns1035Label: NameValidator = (name, prefix) =>
  isDns1035Label(prefix ? maskTrailingDash(name) : name);
