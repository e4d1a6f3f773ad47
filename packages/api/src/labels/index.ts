// Label selectors and label validation, exported from @tug/api as the `labels` namespace
// (labels.Selector.parse(...), labels.validateLabels(...)), as in Kubernetes' labels package.

export {
  validateLabelName,
  validateLabelSelector,
  validateLabelSelectorRequirement,
  validateLabels,
} from "./label-validation.js";
export {
  type LabelSet,
  OPERATORS,
  type Operator,
  Requirement,
  validateRequirement,
} from "./requirement.js";
export {
  type LabelSelectorRequirementShape,
  type LabelSelectorShape,
  type NodeSelectorRequirementShape,
  Selector,
} from "./selector.js";
export { SelectorError } from "./selector-error.js";
