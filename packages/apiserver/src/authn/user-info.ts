// Who made a request, as Kubernetes' authenticators describe it (user.Info): a name, a uid and
// groups. https://kubernetes.io/docs/reference/access-authn-authz/authentication/

/** An authenticated (or anonymous) requester. */
export interface UserInfo {
  readonly name: string;
  readonly uid: string;
  readonly groups: readonly string[];
}

/** Every authenticated user is in this group. */
export const AUTHENTICATED_GROUP = "system:authenticated";

/** Requests without credentials, when anonymous requests are allowed (--anonymous-auth). */
export const ANONYMOUS: UserInfo = {
  name: "system:anonymous",
  uid: "",
  groups: ["system:unauthenticated"],
};
