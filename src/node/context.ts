import type { RelayClient } from "../client/relay-client";
import type { NodeConfig } from "../config/config";
import type { ReplyOf } from "../protocol";
import type { Paths } from "../config/paths";
import type { EventBus } from "./events";
import type { KvStore } from "../store/kv-store";
import type { Messaging } from "./messaging/service";
import type { PeerService } from "./peers/service";
import type { Lanes } from "./lane/lanes";
import type { Screens } from "./screen/screens";
import type { Sessions } from "./sessions";

/** What every request handler may use. */
export interface NodeContext {
  paths: Paths;
  config: NodeConfig;
  sessions: Sessions;
  events: EventBus;
  screens: Screens;
  /** Local attach clients whose terminal the node serves directly. */
  lanes: Lanes;
  messaging: Messaging;
  /** This node's identity and its peers (other owners' nodes, by handle). */
  peers: PeerService;
  kv: KvStore;
  log: (msg: string) => void;
  /** The connection to the relay, if this machine has one. */
  relay: {
    status(): ReplyOf<"RelayState">["relay"];
    /** Re-reads relay.toml and reconnects (after `cw setup`). */
    reconnect(): ReplyOf<"RelayState">["relay"];
    /** The relay's API, when there is a relay: the KV then lives there, shared by all nodes. */
    api(): RelayClient | undefined;
  };
  shutdown: (reason: string) => void;
  /** The node is stopping: a stream that ends now ends because of it (AttachEnded node_stopping). */
  stopping: () => boolean;
}
