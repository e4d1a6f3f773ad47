// A small service for the server tests, with JSON messages: one method of each kind, plus
// the grpc-js client constructor for it.

import { makeGenericClientConstructor } from "@grpc/grpc-js";

export interface Num {
  n: number;
  text?: string;
}

const serialize = (value: Num): Buffer => Buffer.from(JSON.stringify(value));
const deserialize = (bytes: Buffer): Num => JSON.parse(bytes.toString()) as Num;

function method(name: string, requestStream: boolean, responseStream: boolean) {
  return {
    path: `/test.Numbers/${name}`,
    requestStream,
    responseStream,
    requestSerialize: serialize,
    requestDeserialize: deserialize,
    responseSerialize: serialize,
    responseDeserialize: deserialize,
    originalName: name,
  };
}

export const numbersService = {
  Echo: method("Echo", false, false),
  Count: method("Count", false, true),
  Sum: method("Sum", true, false),
  Chat: method("Chat", true, true),
};

/** A client for numbersService plus a method the server does not serve. */
export const NumbersClient = makeGenericClientConstructor(
  { ...numbersService, Missing: method("Missing", false, false) },
  "Numbers",
);
