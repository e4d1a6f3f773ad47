// @tug/cli — the `tug` command line: kubectl's verbs and habits against tug-apiserver.
export {};
