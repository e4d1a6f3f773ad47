// Kubernetes' IntOrString (k8s.io/apimachinery/pkg/util/intstr): a field that holds either an
// integer (a port number, a count) or a string (a port name, a percentage such as "25%").
// tug's protos carry it as google.protobuf.Value, whose proto3 JSON is the bare number or
// string, as in Kubernetes' JSON.

import { create } from "@bufbuild/protobuf";
import { type Value, ValueSchema } from "@bufbuild/protobuf/wkt";

/**
 * The number or string an IntOrString field holds; undefined when the field is unset or
 * holds anything else (null, a bool, a list: not valid IntOrString, rejected when parsing).
 */
export function intOrString(value: Value | undefined): number | string | undefined {
  const kind = value?.kind;
  if (kind?.case === "numberValue" || kind?.case === "stringValue") return kind.value;
  return undefined;
}

/** An IntOrString field's value. Throws RangeError for a number that is not an integer. */
export function makeIntOrString(value: number | string): Value {
  if (typeof value === "number") {
    if (!Number.isSafeInteger(value)) {
      throw new RangeError(`IntOrString: ${value} is not an integer; use an integer or a string`);
    }
    return create(ValueSchema, { kind: { case: "numberValue", value } });
  }
  return create(ValueSchema, { kind: { case: "stringValue", value } });
}
