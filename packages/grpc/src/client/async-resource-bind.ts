// Node 20's AsyncResource.prototype.bind, without its per-call cost. Node 20 gives every
// function it binds a deprecated `asyncResource` accessor (DEP0172) made of two fresh
// util.deprecate() wrappers, each a closure pair and an Object.setPrototypeOf on a function:
// about 20 µs of CPU per bind under load. node:http2's ClientHttp2Session.request() binds
// one function per request (`new AsyncResource('PendingRequest').bind(...)`), and no public
// option avoids it, so every gRPC call paid that. This module replaces the method with one
// that does what Node 20's does (https://nodejs.org/docs/latest-v20.x/api/async_context.html
// #asyncresourcebindfn-thisarg): the bound function runs `fn` in the resource's async scope
// with the caller's `this` (or `thisArg` when given), its `length` is fn's, and it has the
// same deprecated, enumerable `asyncResource` accessor, whose warning DEP0172 is emitted once
// as before; only its getter and setter are shared by every bound function (made once)
// instead of made per bind. A non-function `fn` goes to Node's own method, which throws its
// ERR_INVALID_ARG_TYPE.

import { AsyncResource } from "node:async_hooks";
import { deprecate } from "node:util";

/** Where a bound function keeps the resource its `asyncResource` accessor reads and sets. */
const RESOURCE: unique symbol = Symbol("asyncResource");

interface BoundFunction {
  [RESOURCE]: AsyncResource;
}

const DEP0172_TEXT = "The asyncResource property on bound functions is deprecated";

const asyncResourceAccessor: PropertyDescriptor = {
  configurable: true,
  enumerable: true,
  get: deprecate(
    function (this: BoundFunction) {
      return this[RESOURCE];
    },
    DEP0172_TEXT,
    "DEP0172",
  ),
  set: deprecate(
    function (this: BoundFunction, value: AsyncResource) {
      this[RESOURCE] = value;
    },
    DEP0172_TEXT,
    "DEP0172",
  ),
};

type AnyFunction = (...args: unknown[]) => unknown;

function bind<F extends AnyFunction>(this: AsyncResource, fn: F, thisArg?: unknown): F {
  // Node's own method throws its ERR_INVALID_ARG_TYPE before it looks at thisArg.
  if (typeof fn !== "function") return nodeBind.call(this, fn) as F;
  const resource = this;
  const bound =
    thisArg === undefined
      ? function (this: unknown, ...args: unknown[]) {
          return resource.runInAsyncScope(fn, this, ...args);
        }
      : (...args: unknown[]) => resource.runInAsyncScope(fn, thisArg, ...args);
  // Both functions above have length 0 already, with the attributes Node gives it; defining a
  // function's property is costly, so only a different length is defined (http2 binds a
  // function of length 0).
  if (fn.length !== 0) {
    Object.defineProperty(bound, "length", {
      configurable: true,
      enumerable: false,
      value: fn.length,
      writable: false,
    });
  }
  Object.defineProperty(bound, "asyncResource", asyncResourceAccessor);
  (bound as unknown as BoundFunction)[RESOURCE] = resource;
  return bound as F;
}

const nodeBind = AsyncResource.prototype.bind;

/**
 * Whether this Node's AsyncResource.prototype.bind makes the per-bind deprecate wrappers
 * (Node 20: an own `asyncResource` accessor on the bound function), i.e. whether replacing it
 * pays. Later Node versions that drop the accessor keep their own method.
 */
function nodeBindHasDeprecatedAccessor(): boolean {
  const bound = new AsyncResource("tug-probe").bind(() => undefined);
  return Object.getOwnPropertyDescriptor(bound, "asyncResource")?.get !== undefined;
}

let installed = false;

/**
 * Replaces AsyncResource.prototype.bind (process-wide, once) with the equivalent above, on
 * Node versions whose own bind has the per-bind deprecate wrappers. Idempotent; GrpcChannel
 * calls it. Returns whether the replacement is in place.
 */
export function installAsyncResourceBind(): boolean {
  if (!installed && AsyncResource.prototype.bind === nodeBind && nodeBindHasDeprecatedAccessor()) {
    AsyncResource.prototype.bind = bind;
    installed = true;
  }
  return installed;
}
