// Field selectors, exported from @tug/api as the `fields` namespace (fields.Selector.parse(...)),
// as in Kubernetes' fields package.

export { SelectorError } from "../labels/selector-error.js";
export { escapeValue, unescapeValue } from "./escape.js";
export { type FieldRequirement, type FieldSource, Selector } from "./selector.js";
