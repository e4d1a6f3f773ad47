// Authentication in front of every method of the API service: the request's "authorization"
// metadata (kubectl's Authorization header) is checked before the method runs, and a refused
// request gets 401 Unauthorized — the Status Kubernetes answers, `{"reason": "Unauthorized",
// "message": "Unauthorized", "code": 401}` — without reaching the handler.
// https://kubernetes.io/docs/reference/access-authn-authz/authentication/

import { create } from "@bufbuild/protobuf";
import { anyUnpack } from "@bufbuild/protobuf/wkt";
import { ServiceAccountSchema } from "@tug/api";
import { apiServiceDefinition, apiv1 } from "@tug/client";
import type {
  Handler,
  SendUnaryData,
  ServerDuplexCall,
  ServerUnaryCall,
  ServerWritableCall,
} from "@tug/grpc";
import {
  AUTHORIZATION_HEADER,
  type Authenticator,
  type ServiceAccountLookup,
  UnauthorizedError,
} from "../authn/index.js";
import type { ApiHandlers } from "./api-handlers.js";
import { type ApiImplementation, serviceError } from "./grpc-service.js";
import { StatusError, toStatusError } from "./status-error.js";

/** Why a request was refused, for the server's log (the client only sees "Unauthorized"). */
export type RefusalObserver = (method: string, why: string) => void;

function unauthorized() {
  return serviceError(new StatusError("Unauthorized", "Unauthorized"));
}

/** `implementation` with every method behind `authenticator`. */
export function withAuthentication(
  implementation: ApiImplementation,
  authenticator: Authenticator,
  onRefused: RefusalObserver = () => undefined,
): ApiImplementation {
  const wrapped: ApiImplementation = {};
  for (const [method, handler] of Object.entries(implementation)) {
    const definition = apiServiceDefinition[method];
    const streaming =
      definition !== undefined && (definition.requestStream || definition.responseStream);
    // The common case, no credentials and anonymous requests allowed, runs the handler at once:
    // no promise turn on every call.
    const anonymous = (metadata: { get(key: string): unknown[] }): boolean =>
      authenticator.anonymous && metadata.get(AUTHORIZATION_HEADER).length === 0;
    const check = (metadata: { get(key: string): unknown[] }): Promise<string | undefined> =>
      authenticator.authenticate(metadata.get(AUTHORIZATION_HEADER).map(String)).then(
        () => undefined,
        (e: unknown) => {
          if (!(e instanceof UnauthorizedError)) throw e;
          onRefused(method, e.why);
          return e.why;
        },
      );
    if (!streaming) {
      const unary = handler as (call: ServerUnaryCall<unknown>, cb: SendUnaryData<unknown>) => void;
      wrapped[method] = ((call: ServerUnaryCall<unknown>, callback: SendUnaryData<unknown>) => {
        if (anonymous(call.metadata)) {
          unary(call, callback);
          return;
        }
        check(call.metadata).then(
          (refused) => (refused === undefined ? unary(call, callback) : callback(unauthorized())),
          (e: unknown) => callback(e as Error),
        );
      }) as Handler;
    } else {
      const stream = handler as (
        call: ServerWritableCall<unknown, unknown> | ServerDuplexCall<unknown, unknown>,
      ) => void;
      wrapped[method] = ((
        call: ServerWritableCall<unknown, unknown> | ServerDuplexCall<unknown, unknown>,
      ) => {
        if (anonymous(call.metadata)) {
          stream(call);
          return;
        }
        check(call.metadata).then(
          (refused) => {
            if (call.cancelled) return;
            if (refused === undefined) stream(call);
            else call.emit("error", unauthorized());
          },
          (e: unknown) => call.emit("error", e),
        );
      }) as Handler;
    }
  }
  return wrapped;
}

/**
 * --service-account-lookup: a legacy token is good only while its Secret exists and its
 * ServiceAccount exists with the uid the token names (a deleted and re-created account's old
 * tokens stop working).
 */
export function serviceAccountLookup(handlers: ApiHandlers): ServiceAccountLookup {
  const read = async (resource: string, namespace: string, name: string) => {
    try {
      return await handlers.get(
        create(apiv1.GetRequestSchema, { ref: { version: "v1", resource, namespace, name } }),
      );
    } catch (e) {
      if (toStatusError(e).reason === "NotFound") return undefined;
      throw e;
    }
  };
  return async ({ namespace, account, accountUid, secret }) => {
    if (secret === "" || (await read("secrets", namespace, secret)) === undefined) return false;
    const found = await read("serviceaccounts", namespace, account);
    if (found?.object === undefined) return false;
    if (accountUid === "") return true;
    const sa = anyUnpack(found.object, ServiceAccountSchema);
    return sa?.metadata?.uid === accountUid;
  };
}
