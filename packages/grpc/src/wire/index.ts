// The pieces of gRPC's HTTP/2 mapping both the server and the client core speak.

export { type CallStatus, GrpcError, statusOfError } from "./grpc-error.js";
export {
  encodeMessage,
  isSingleMessage,
  MESSAGE_HEADER_BYTES,
  MessageDecoder,
  messageTooLargeText,
} from "./message-framing.js";
export { Metadata, type MetadataValue } from "./metadata.js";
export {
  Status,
  type StatusCode,
  type StatusName,
  statusFromHeader,
  statusName,
} from "./status.js";
export { decodeStatusMessage, encodeStatusMessage } from "./status-message.js";
export { formatTimeout, parseTimeout } from "./timeout.js";
