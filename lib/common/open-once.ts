/**
 * A resource opened on first use (a connection, its migrations) and closed once. A failed open is
 * not remembered, so the next call tries again. After `close()` nothing opens again: a late call
 * (a handler finishing during shutdown) must not open a pool nobody closes, so it gets `closedError`.
 */
export class OpenOnce<T extends { close(): Promise<void> }> {
  private opened: Promise<T> | undefined;
  private closed = false;
  /** The resource once open, never after close: hot paths use it without a promise hop. */
  current: T | undefined;

  constructor(
    private readonly open: () => Promise<T>,
    private readonly closedError: () => Error,
  ) {}

  /** The resource, opened once. */
  ready(): Promise<T> {
    if (this.closed) return Promise.reject(this.closedError());
    if (!this.opened) {
      this.opened = this.open().then(
        (resource) => {
          // A close() that ran while opening has cleared `current`; leave it clear so calls get refused.
          if (!this.closed) this.current = resource;
          return resource;
        },
        (error: unknown) => {
          this.opened = undefined;
          throw error;
        },
      );
    }
    return this.opened;
  }

  /** Closes what was opened (waiting for an open in progress); later calls get `closedError`. */
  async close(): Promise<void> {
    this.closed = true;
    const opened = this.opened;
    this.opened = undefined;
    this.current = undefined;
    if (!opened) return;
    const resource = await opened.catch(() => undefined);
    await resource?.close();
  }
}
