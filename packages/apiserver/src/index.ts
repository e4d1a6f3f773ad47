// @tug/apiserver — public surface. Each export is added with the module that implements it.

export * from "./process/index.js";
export * from "./server/index.js";
