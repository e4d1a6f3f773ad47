export {
  AUTHORIZATION_HEADER,
  type AuthenticationConfig,
  Authenticator,
  type AuthenticatorOptions,
  buildAuthenticator,
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
