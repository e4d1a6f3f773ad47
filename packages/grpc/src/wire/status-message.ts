// The grpc-message header's encoding (PROTOCOL-HTTP2.md): the message as UTF-8, with every
// octet outside 0x20–0x7E, and '%' itself, written as %XX ("Percent-Byte-Encoded").
// Receivers decode %XX and keep anything malformed as it came, rather than fail the call.

/** Whether the octet may appear in grpc-message as is. */
function unencoded(byte: number): boolean {
  return byte >= 0x20 && byte <= 0x7e && byte !== 0x25;
}

/** The grpc-message header value for a status message. */
export function encodeStatusMessage(message: string): string {
  // Most messages are plain ASCII: return them as they are.
  let plain = true;
  for (let i = 0; i < message.length; i++) {
    if (!unencoded(message.charCodeAt(i))) {
      plain = false;
      break;
    }
  }
  if (plain) return message;
  let out = "";
  for (const byte of Buffer.from(message, "utf8")) {
    out += unencoded(byte)
      ? String.fromCharCode(byte)
      : `%${byte.toString(16).toUpperCase().padStart(2, "0")}`;
  }
  return out;
}

/** The status message a grpc-message header value encodes. */
export function decodeStatusMessage(value: string): string {
  if (!value.includes("%")) return value;
  const bytes: number[] = [];
  for (let i = 0; i < value.length; i++) {
    const c = value.charCodeAt(i);
    if (c === 0x25 && i + 2 < value.length) {
      const hex = value.slice(i + 1, i + 3);
      if (/^[0-9A-Fa-f]{2}$/.test(hex)) {
        bytes.push(Number.parseInt(hex, 16));
        i += 2;
        continue;
      }
    }
    // Node hands header values over as latin1: each char is one octet as sent.
    if (c < 0x100) bytes.push(c);
    else for (const b of Buffer.from(value[i] as string, "utf8")) bytes.push(b);
  }
  return Buffer.from(bytes).toString("utf8");
}
