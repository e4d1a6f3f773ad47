// The `tug` command line: kubectl's verbs and global flags on commander. Every command runs
// through a CommandContext built from the injected CliIo, so the whole program runs in tests
// with captured output, a fixed clock and a fake client. runTug returns the exit code instead
// of exiting: 0 on success, 1 on any error (kubectl's convention), usage errors included.

import { Command, CommanderError, Option } from "commander";
import { describeError } from "./api-status.js";
import type { CliIo } from "./cli-io.js";
import { CommandContext, type GlobalFlags } from "./command-context.js";
import { runApiResources } from "./commands/api-resources.js";
import { runFromFiles } from "./commands/apply.js";
import {
  runConfigView,
  runCurrentContext,
  runDeleteContext,
  runGetContexts,
  runSetCluster,
  runSetContext,
  runSetCredentials,
  runUseContext,
} from "./commands/config.js";
import { runCordon } from "./commands/cordon.js";
import { runCreateNamespace } from "./commands/create-namespace.js";
import { runDelete } from "./commands/delete.js";
import { runDescribe } from "./commands/describe.js";
import { runDown } from "./commands/down.js";
import { runDrain } from "./commands/drain.js";
import { runEdit } from "./commands/edit.js";
import { runExec } from "./commands/exec.js";
import { runGet } from "./commands/get.js";
import { runLabelOrAnnotate } from "./commands/label.js";
import { runLogs } from "./commands/logs.js";
import {
  runRolloutHistory,
  runRolloutPause,
  runRolloutRestart,
  runRolloutStatus,
  runRolloutUndo,
} from "./commands/rollout.js";
import { runScale } from "./commands/scale.js";
import { runStatus } from "./commands/status.js";
import { runUp } from "./commands/up.js";

const collect = (value: string, previous: string[] = []): string[] => [...previous, value];

/** kubectl's `--flag=false` for boolean flags that default to true (--wait). */
const boolFlag = (value: string | undefined): boolean => value === undefined || value !== "false";

type Action = (ctx: CommandContext, command: Command) => Promise<number>;

/** Builds the program; `run` receives each command's action with its context. */
function buildProgram(
  io: CliIo,
  run: (command: Command, action: Action) => Promise<void>,
): Command {
  const program = new Command("tug")
    .description("tug controls a tug cluster, with kubectl's verbs and habits.")
    .option(
      "-s, --server <address>",
      "the API server, host:port (default: the context's cluster, else 127.0.0.1:6443)",
    )
    .option("-n, --namespace <namespace>", "the namespace for this request")
    .option("--context <name>", "the config context to use")
    .option("--token <token>", "bearer token for authentication to the API server")
    .option(
      "--request-timeout <duration>",
      "how long one server request may take, e.g. 30s, 2m (0: the client's default, 30s)",
      "0",
    )
    .option("--tugconfig <path>", "the config file (default: $TUGCONFIG, else ~/.tug/config)")
    .exitOverride()
    .showSuggestionAfterError(true)
    .configureOutput({
      writeOut: (text) => io.stdout.write(text),
      writeErr: (text) => io.stderr.write(text),
    });

  const flags = (command: Command): Record<string, unknown> => command.opts();
  // --server, --token and --namespace of the config verbs share their names with the global
  // flags (as in kubectl); commander hands such a flag to the program, so read both levels.
  const withGlobals = (command: Command, name: string): string | undefined => {
    const value: unknown = command.optsWithGlobals()[name];
    return typeof value === "string" ? value : undefined;
  };
  const on = (command: Command, action: Action) =>
    command.action(async (..._args: unknown[]) => {
      await run(command, action);
    });

  on(
    program
      .command("get")
      .description("Display one or many resources")
      .argument("[resources...]", "TYPE[,TYPE...] [NAME...] or TYPE/NAME...")
      .option("-o, --output <format>", "output format: wide, yaml, json, name")
      .option("-l, --selector <selector>", "label selector, e.g. app=web,tier!=db")
      .option("--field-selector <selector>", "field selector, e.g. metadata.name=web")
      .option("-w, --watch", "after listing, watch for changes")
      .option("--watch-only", "watch for changes without listing first")
      .option("-A, --all-namespaces", "list across all namespaces")
      .option("--show-labels", "show labels as the last column")
      .option("--no-headers", "leave out the header line"),
    (ctx, command) => {
      const o = flags(command);
      return runGet(ctx, command.args, {
        output: o.output as string | undefined,
        selector: o.selector as string | undefined,
        fieldSelector: o.fieldSelector as string | undefined,
        watch: o.watch === true,
        watchOnly: o.watchOnly === true,
        allNamespaces: o.allNamespaces === true,
        showLabels: o.showLabels === true,
        noHeaders: o.headers === false,
      });
    },
  );

  on(
    program
      .command("logs")
      .description("Print the logs of a container in a pod")
      .argument("<pod>", "POD or pod/POD")
      .argument("[container]", "the container (or -c)")
      .option("-c, --container <name>", "the container; default: the pod's only one")
      .option("-f, --follow", "keep streaming new lines")
      .option("-p, --previous", "the previous, terminated run of the container")
      .option("--tail <lines>", "only the last N lines (-1: all)")
      .option("--since <duration>", "only lines newer than this, e.g. 10s, 5m, 1h")
      .option("--timestamps", "prefix each line with its RFC 3339 timestamp"),
    (ctx, command) => {
      const o = flags(command);
      return runLogs(ctx, command.args, {
        container: o.container as string | undefined,
        follow: o.follow === true,
        previous: o.previous === true,
        timestamps: o.timestamps === true,
        tail: o.tail as string | undefined,
        since: o.since as string | undefined,
      });
    },
  );

  on(
    program
      .command("exec")
      .description("Execute a command in a container: tug exec [-i] [-t] POD [-c C] -- CMD...")
      .argument("<pod>", "POD or pod/POD")
      .argument("[command...]", "the command and its arguments, after --")
      .option("-c, --container <name>", "the container; default: the pod's only one")
      .option("-i, --stdin", "pass stdin to the container")
      .option("-t, --tty", "stdin is a TTY"),
    (ctx, command) => {
      const o = flags(command);
      return runExec(ctx, command.args, {
        container: o.container as string | undefined,
        stdin: o.stdin === true,
        tty: o.tty === true,
      });
    },
  );

  on(
    program
      .command("describe")
      .description("Show details of a resource, with its events")
      .argument("<resources...>", "TYPE [NAME...] or TYPE/NAME...")
      .option("-l, --selector <selector>", "label selector")
      .option("-A, --all-namespaces", "across all namespaces")
      .addOption(
        new Option("--show-events [bool]", "show the object's events")
          .argParser(boolFlag)
          .default(true),
      ),
    (ctx, command) => {
      const o = flags(command);
      return runDescribe(ctx, command.args, {
        selector: o.selector as string | undefined,
        allNamespaces: o.allNamespaces === true,
        showEvents: o.showEvents !== false,
      });
    },
  );

  for (const verb of ["apply", "create", "replace"] as const) {
    const description = {
      apply:
        "Create or update resources from files (three-way merge with the last applied manifest)",
      create: "Create resources from files",
      replace: "Replace resources from files",
    }[verb];
    on(
      program
        .command(verb)
        .description(description)
        .option(
          "-f, --filename <path>",
          "a file, a directory, or - for stdin (repeatable)",
          collect,
        )
        .option("-R, --recursive", "read directories given with -f recursively")
        .option("-o, --output <format>", "name: print only TYPE/NAME")
        .option("--save-config", "create, replace: record the manifest for a later tug apply"),
      (ctx, command) => {
        const o = flags(command);
        return runFromFiles(ctx, verb, {
          filename: o.filename as string[] | undefined,
          recursive: o.recursive === true,
          output: o.output as string | undefined,
          saveConfig: o.saveConfig === true,
        });
      },
    );
  }

  const create = program.commands.find((c) => c.name() === "create");
  if (create !== undefined) {
    on(
      create
        .command("namespace")
        .alias("ns")
        .description("Create a namespace")
        .argument("<name>")
        .option("--save-config", "record the manifest for a later tug apply"),
      (ctx, command) =>
        runCreateNamespace(ctx, command.args[0] ?? "", {
          saveConfig: flags(command).saveConfig === true,
        }),
    );
  }

  on(
    program
      .command("delete")
      .description("Delete resources by name, file, label selector or --all")
      .argument("[resources...]", "TYPE NAME... or TYPE/NAME...")
      .option(
        "-f, --filename <path>",
        "the objects in a file, directory or - (repeatable)",
        collect,
      )
      .option("-R, --recursive", "read directories given with -f recursively")
      .option("-l, --selector <selector>", "label selector")
      .option("--field-selector <selector>", "field selector")
      .option("--all", "every object of the types given, in the namespace")
      .option("-A, --all-namespaces", "across all namespaces (with -l or --all)")
      .option(
        "--grace-period <seconds>",
        "seconds to let the object terminate (-1: the kind's default)",
        "-1",
      )
      .option("--now", "terminate at once (grace period 1)")
      .addOption(
        new Option("--wait [bool]", "wait until the objects are gone")
          .argParser(boolFlag)
          .default(true),
      )
      .option("--timeout <duration>", "give up waiting after this long (0: never)", "0")
      .option("--ignore-not-found", "treat a missing object as deleted"),
    (ctx, command) => {
      const o = flags(command);
      return runDelete(ctx, command.args, {
        filename: o.filename as string[] | undefined,
        recursive: o.recursive === true,
        selector: o.selector as string | undefined,
        fieldSelector: o.fieldSelector as string | undefined,
        all: o.all === true,
        allNamespaces: o.allNamespaces === true,
        gracePeriod: o.gracePeriod as string | undefined,
        now: o.now === true,
        wait: o.wait !== false,
        timeout: o.timeout as string | undefined,
        ignoreNotFound: o.ignoreNotFound === true,
      });
    },
  );

  for (const field of ["labels", "annotations"] as const) {
    const name = field === "labels" ? "label" : "annotate";
    on(
      program
        .command(name)
        .description(
          field === "labels"
            ? "Update the labels of resources"
            : "Update the annotations of resources",
        )
        .argument("<args...>", "TYPE NAME... KEY=VALUE... KEY-...")
        .option("--overwrite", "allow changing an existing value")
        .option("-l, --selector <selector>", "label selector")
        .option("--all", "every object of the type in the namespace")
        .option("-A, --all-namespaces", "across all namespaces")
        .option("--resource-version <version>", "only if the object is still at this version"),
      (ctx, command) => {
        const o = flags(command);
        return runLabelOrAnnotate(ctx, field, command.args, {
          overwrite: o.overwrite === true,
          selector: o.selector as string | undefined,
          all: o.all === true,
          allNamespaces: o.allNamespaces === true,
          resourceVersion: o.resourceVersion as string | undefined,
        });
      },
    );
  }

  on(
    program
      .command("edit")
      .description("Edit resources in $KUBE_EDITOR, $EDITOR or vi")
      .argument("<resources...>", "TYPE NAME or TYPE/NAME")
      .option("-l, --selector <selector>", "label selector"),
    (ctx, command) =>
      runEdit(ctx, command.args, { selector: flags(command).selector as string | undefined }),
  );

  on(
    program
      .command("scale")
      .description("Set the replicas of deployments, replicasets or statefulsets")
      .argument("<resources...>", "TYPE NAME or TYPE/NAME")
      .option("--replicas <count>", "the new number of replicas")
      .option("--current-replicas <count>", "only if the current number of replicas is this")
      .option("-l, --selector <selector>", "label selector")
      .option("--all", "every object of the type in the namespace"),
    (ctx, command) => {
      const o = flags(command);
      return runScale(ctx, command.args, {
        replicas: o.replicas as string | undefined,
        currentReplicas: o.currentReplicas as string | undefined,
        selector: o.selector as string | undefined,
        all: o.all === true,
      });
    },
  );

  on(
    program
      .command("api-resources")
      .description("List the resource types the server serves")
      .option("-o, --output <format>", "wide (adds VERBS) or name")
      .option("--namespaced <bool>", "only namespaced (true) or cluster-scoped (false) resources")
      .option("--api-group <group>", 'only resources of this API group ("" for core)')
      .option("--no-headers", "leave out the header line"),
    (ctx, command) => {
      const o = flags(command);
      return runApiResources(ctx, {
        output: o.output as string | undefined,
        namespaced: o.namespaced as string | undefined,
        apiGroup: o.apiGroup as string | undefined,
        noHeaders: o.headers === false,
      });
    },
  );

  on(
    program
      .command("up")
      .description("Start a whole local cluster on this machine and point the config at it")
      .option(
        "--data-dir <dir>",
        "where the cluster keeps data, logs and pid files (default ~/.tug/cluster)",
      )
      .option("--agents <count>", "number of nodes, each an agent with its own runtime", "2")
      .option(
        "--base-port <port>",
        "the first store member's client port; every port moves with it",
        "2379",
      )
      .option(
        "--run-dir <dir>",
        "where the runtimes' CRI sockets go, one directory per node",
        "/run/tug",
      )
      .option(
        "--from-source",
        "run the daemons from their TypeScript sources even if dist/ is built",
      ),
    (ctx, command) => {
      const o = flags(command);
      return runUp(ctx, {
        dataDir: o.dataDir as string | undefined,
        agents: o.agents as string | undefined,
        basePort: o.basePort as string | undefined,
        runDir: o.runDir as string | undefined,
        fromSource: o.fromSource === true,
        tty: process.stdout.isTTY === true && io.env.TERM !== "dumb",
      });
    },
  );
  on(
    program
      .command("down")
      .description("Stop the local cluster and remove its containers (data kept unless --purge)")
      .option("--data-dir <dir>", "the cluster's data dir (default ~/.tug/cluster)")
      .option("--purge", "also delete the data dir"),
    (ctx, command) => {
      const o = flags(command);
      return runDown(ctx, { dataDir: o.dataDir as string | undefined, purge: o.purge === true });
    },
  );
  on(
    program
      .command("status")
      .description("Show every local cluster component's pid, ports, health and the store leader")
      .option("--data-dir <dir>", "the cluster's data dir (default ~/.tug/cluster)"),
    (ctx, command) => runStatus(ctx, { dataDir: flags(command).dataDir as string | undefined }),
  );

  const rollout = program
    .command("rollout")
    .description("Manage the rollout of deployments (and daemonsets, statefulsets)");
  on(
    rollout
      .command("status")
      .description("Follow a rollout until it completes")
      .argument("<resources...>", "TYPE NAME or TYPE/NAME")
      .addOption(
        new Option("-w, --watch [bool]", "keep following until the rollout completes")
          .argParser(boolFlag)
          .default(true),
      )
      .option("--timeout <duration>", "give up after this long, e.g. 5m (0: never)", "0"),
    (ctx, command) => {
      const o = flags(command);
      return runRolloutStatus(ctx, command.args, {
        watch: o.watch !== false,
        timeout: o.timeout as string | undefined,
      });
    },
  );
  on(
    rollout
      .command("history")
      .description("List a deployment's revisions")
      .argument("<resources...>", "TYPE NAME or TYPE/NAME")
      .option("--revision <n>", "show the pod template of this revision"),
    (ctx, command) =>
      runRolloutHistory(ctx, command.args, {
        revision: flags(command).revision as string | undefined,
      }),
  );
  on(
    rollout
      .command("undo")
      .description("Roll a deployment back to the previous (or a given) revision")
      .argument("<resources...>", "TYPE NAME or TYPE/NAME")
      .option("--to-revision <n>", "the revision to roll back to (0: the previous one)", "0"),
    (ctx, command) =>
      runRolloutUndo(ctx, command.args, {
        toRevision: flags(command).toRevision as string | undefined,
      }),
  );
  for (const verb of ["pause", "resume"] as const) {
    on(
      rollout
        .command(verb)
        .description(
          verb === "pause"
            ? "Pause a deployment: template changes wait until resume"
            : "Resume a paused deployment",
        )
        .argument("<resources...>", "TYPE NAME or TYPE/NAME"),
      (ctx, command) => runRolloutPause(ctx, command.args, verb === "pause"),
    );
  }
  on(
    rollout
      .command("restart")
      .description("Replace every pod of a deployment, daemonset or statefulset by a rollout")
      .argument("<resources...>", "TYPE NAME or TYPE/NAME"),
    (ctx, command) => runRolloutRestart(ctx, command.args),
  );

  for (const verb of ["cordon", "uncordon"] as const) {
    on(
      program
        .command(verb)
        .description(
          verb === "cordon" ? "Mark nodes unschedulable" : "Mark nodes schedulable again",
        )
        .argument("[nodes...]", "node names")
        .option("-l, --selector <selector>", "the nodes with these labels"),
      (ctx, command) =>
        runCordon(ctx, command.args, verb === "cordon", {
          selector: flags(command).selector as string | undefined,
        }),
    );
  }
  on(
    program
      .command("drain")
      .description("Cordon nodes and evict their pods, honouring PodDisruptionBudgets")
      .argument("[nodes...]", "node names")
      .option("-l, --selector <selector>", "the nodes with these labels")
      .option("--force", "also delete pods that no controller manages")
      .option("--ignore-daemonsets", "leave DaemonSet-managed pods in place")
      .option(
        "--delete-emptydir-data",
        "also evict pods with emptyDir volumes (their data is lost)",
      )
      .option(
        "--grace-period <seconds>",
        "seconds each pod gets to terminate (-1: the pod's own)",
        "-1",
      )
      .option("--timeout <duration>", "give up after this long, e.g. 2m (0: never)", "0"),
    (ctx, command) => {
      const o = flags(command);
      return runDrain(ctx, command.args, {
        selector: o.selector as string | undefined,
        force: o.force === true,
        ignoreDaemonsets: o.ignoreDaemonsets === true,
        deleteEmptydirData: o.deleteEmptydirData === true,
        gracePeriod: o.gracePeriod as string | undefined,
        timeout: o.timeout as string | undefined,
      });
    },
  );

  const config = program
    .command("config")
    .description("Modify the config file (clusters, users, contexts)");
  on(
    config
      .command("view")
      .description("Show the config file, tokens redacted")
      .option("--raw", "show tokens")
      .option("-o, --output <format>", "yaml (default) or json"),
    (ctx, command) => {
      const o = flags(command);
      return runConfigView(ctx, { raw: o.raw === true, output: o.output as string | undefined });
    },
  );
  on(config.command("current-context").description("Print the current context"), (ctx) =>
    runCurrentContext(ctx),
  );
  on(
    config.command("use-context").description("Set the current context").argument("<name>"),
    (ctx, command) => runUseContext(ctx, command.args[0] ?? ""),
  );
  on(
    config
      .command("set-context")
      .description("Create or modify a context")
      .argument("[name]")
      .option("--cluster <name>", "the cluster entry")
      .option("--user <name>", "the user entry")
      .option("--namespace <namespace>", "the default namespace")
      .option("--current", "modify the current context"),
    (ctx, command) => {
      return runSetContext(ctx, command.args[0], {
        cluster: withGlobals(command, "cluster"),
        user: withGlobals(command, "user"),
        namespace: withGlobals(command, "namespace"),
        current: flags(command).current === true,
      });
    },
  );
  on(
    config
      .command("set-cluster")
      .description("Create or modify a cluster entry")
      .argument("<name>")
      .option("--server <address>", "the API server, host:port"),
    (ctx, command) =>
      runSetCluster(ctx, command.args[0] ?? "", { server: withGlobals(command, "server") }),
  );
  on(
    config
      .command("set-credentials")
      .description("Create or modify a user entry")
      .argument("<name>")
      .option("--token <token>", "bearer token"),
    (ctx, command) =>
      runSetCredentials(ctx, command.args[0] ?? "", { token: withGlobals(command, "token") }),
  );
  on(
    config.command("get-contexts").description("List the contexts").argument("[name]"),
    (ctx, command) => runGetContexts(ctx, command.args[0]),
  );
  on(
    config.command("delete-context").description("Delete a context").argument("<name>"),
    (ctx, command) => runDeleteContext(ctx, command.args[0] ?? ""),
  );
  return program;
}

/**
 * Runs `tug` with `argv` (the arguments after the program name) and returns the exit code.
 * Errors are printed as kubectl prints them; nothing is thrown.
 */
export async function runTug(argv: readonly string[], io: CliIo): Promise<number> {
  let exitCode = 0;
  let active: CommandContext | undefined;
  const program = buildProgram(io, async (command, action) => {
    const globals = command.optsWithGlobals() as GlobalFlags;
    const ctx = new CommandContext(io, {
      server: globals.server,
      namespace: globals.namespace,
      context: globals.context,
      token: globals.token,
      requestTimeout: globals.requestTimeout,
      tugconfig: globals.tugconfig,
    });
    active = ctx;
    exitCode = await action(ctx, command);
  });
  try {
    await program.parseAsync([...argv], { from: "user" });
  } catch (err) {
    if (err instanceof CommanderError) {
      // Help asked for, or shown because a command group was given without its subcommand
      // (`tug`, `tug config`), as kubectl shows it: not an error.
      if (err.exitCode === 0 || err.code === "commander.help") return 0;
      const named = argv.find((a) => program.commands.some((c) => c.name() === a));
      const sub = named === undefined ? "" : `${named} `;
      io.stderr.write(`See 'tug ${sub}--help' for usage.\n`);
      return 1;
    }
    io.stderr.write(
      `${describeError(err, active?.serverForMessages() ?? "127.0.0.1:6443").text}\n`,
    );
    return 1;
  } finally {
    active?.close();
  }
  return exitCode;
}
