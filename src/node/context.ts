import type { NodeConfig } from "../config/config";
import type { Paths } from "../config/paths";
import type { EventBus } from "./events";
import type { KvStore } from "../store/kv-store";
import type { Messaging } from "./messaging/service";
import type { Screens } from "./screen/screens";
import type { Sessions } from "./sessions";

/** What every request handler may use. */
export interface NodeContext {
  paths: Paths;
  config: NodeConfig;
  sessions: Sessions;
  events: EventBus;
  screens: Screens;
  messaging: Messaging;
  kv: KvStore;
  log: (msg: string) => void;
  shutdown: (reason: string) => void;
}
