// The API service's messages (proto/tug/apiserver/v1/api.proto), from @tug/api.

export { apiserverv1 as apiv1 } from "@tug/api";
