// The one error of bad settings, addressed to the operator: every problem found, each naming
// the setting as the operator spelled it (flag, environment variable or config-file key) and
// the fix. A daemon exits 2 on one, before it starts anything.

export class ConfigError extends Error {
  override readonly name = "ConfigError";
  constructor(readonly problems: readonly string[]) {
    super(
      problems.length === 1
        ? `invalid configuration: ${problems[0]}`
        : `invalid configuration:\n${problems.map((p) => `  - ${p}`).join("\n")}`,
    );
  }
}
