// What every CRI handler of tug-cri-docker works with: the Docker engine, the configuration,
// the log copiers of running containers and the exec streaming server.

import type Docker from "dockerode";
import type { ExecStreamingServer } from "./exec-streaming-server.js";
import type { LogCopier } from "./log-copier.js";

export interface RuntimeContext {
  readonly docker: Docker;
  /** This runtime's instance name: it sees only the containers labelled with it. */
  readonly instance: string;
  /** The image of sandbox (pause) containers, e.g. "tug/pause:latest". */
  readonly pauseImage: string;
  /** The Docker network pod sandboxes join (`--pod-network`), e.g. "bridge" or "tug-node-1". */
  readonly podNetwork: string;
  /** Running log copiers by container id. */
  readonly logCopiers: Map<string, LogCopier>;
  readonly streaming: ExecStreamingServer;
  /** Reports failures that have no caller to return to (a log copy that broke). */
  readonly onBackgroundError: (what: string, e: unknown) => void;
}
