/** Bumped when a request or reply changes incompatibly; a mismatch asks the user to restart the node. */
export const PROTOCOL_VERSION = 1;
