// The API service's messages (proto/tug/apiserver/v1/api.proto), imported from @tug/api's
// sources because its index does not export them yet. Once @tug/api exports them (a namespace,
// since ResourceRef's Preconditions and WatchEvent collide with meta/v1 names), this file
// becomes `export { apiserverv1 as apiv1 } from "@tug/api"`.

export * as apiv1 from "../../../api/src/gen/tug/apiserver/v1/api_pb.js";
