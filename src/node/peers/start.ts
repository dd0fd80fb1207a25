/** Assembles the node's identity and peers at start: the key (identity.pem), peers.db, the mail loop. */
import type { RelaySettings } from "../../config/relay";
import { loadOrCreateIdentity } from "../../identity";
import type { Messaging } from "../messaging/service";
import type { Sessions } from "../sessions";
import { runMailbox } from "./mailbox";
import { PeerService } from "./service";
import { PeerStore } from "./store";

export function startPeers(root: string, deps: { messaging: Messaging; sessions: Sessions; log: (msg: string) => void; relay: () => RelaySettings | undefined }) {
  const me = loadOrCreateIdentity(`${root}/identity.pem`);
  const store = new PeerStore(`${root}/peers.db`);
  const peers = new PeerService(me, store, deps);
  const mail = runMailbox(peers);
  deps.log(`identity ${me.face.nickname} (${me.fingerprint.slice(0, 16)})${peers.handle() ? `, handle ${peers.handle()}` : ""}`);
  return {
    peers,
    stop() {
      mail.stop();
      store.close();
    },
  };
}
