/**
 * Why `cw relay` cannot start, with what to do about it: a setting that does not fit (`usage`:
 * exit 2) or something it needs that is not there, such as its database (exit 1).
 */
export class RelayStartError extends Error {
  constructor(
    message: string,
    readonly hint: string,
    readonly usage = false,
  ) {
    super(message);
  }
}
