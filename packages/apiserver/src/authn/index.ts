export {
  AUTHORIZATION_HEADER,
  Authenticator,
  type AuthenticatorOptions,
  UnauthorizedError,
} from "./authenticator.js";
export {
  InvalidTokenError,
  LEGACY_ISSUER,
  publicKeysFromPem,
  type ServiceAccountLookup,
  ServiceAccountTokenAuthenticator,
} from "./service-account-token.js";
export { parseTokenFile, TokenFileError } from "./token-file.js";
export { ANONYMOUS, AUTHENTICATED_GROUP, type UserInfo } from "./user-info.js";
