// The ApiError a client call fails with, for tests that expect a failure.

import { type ApiError, isApiError } from "@tug/client";

/** Resolves to the ApiError `p` rejects with; fails the test if it resolves or throws else. */
export async function failure(p: Promise<unknown>): Promise<ApiError> {
  try {
    await p;
  } catch (e) {
    if (isApiError(e)) return e;
    throw e;
  }
  throw new Error("expected the call to fail");
}
