// @tug/controller-manager — public surface. Each export is added with the module that implements it.
export {};
