// Pieces of @tug/api that its index does not export yet, imported from its sources; each moves
// to a plain `from "@tug/api"` import once @tug/api exports it (asked for in the report of the
// API server work).

export { applyDefaults } from "../../../api/src/defaults/apply-defaults.js";
export { validateObject, validateUpdate } from "../../../api/src/validation/validate-object.js";
