// A push-driven async iterable: the request side of a bidirectional stream. The worker pushes
// frames as they are ready; connect pulls them as HTTP/2 flow control allows. (An async
// generator, so it has the `throw` connect uses to abort a request stream.)

export class Pipe<T> implements AsyncIterable<T> {
  private readonly items: T[] = [];
  private notify: (() => void) | undefined;
  private closed = false;

  /** Queues a value; false once the pipe is closed. */
  push(value: T): boolean {
    if (this.closed) return false;
    this.items.push(value);
    this.wake();
    return true;
  }

  /** Ends the iteration once the queued values are taken (a half-close). */
  close(): void {
    this.closed = true;
    this.wake();
  }

  get isClosed(): boolean {
    return this.closed;
  }

  /** Values pushed and not yet taken. */
  get backlog(): number {
    return this.items.length;
  }

  async *[Symbol.asyncIterator](): AsyncGenerator<T, void, undefined> {
    try {
      for (;;) {
        const next = this.items.shift();
        if (next !== undefined) {
          yield next;
        } else if (this.closed) {
          return;
        } else {
          await new Promise<void>((resolve) => {
            this.notify = resolve;
          });
        }
      }
    } finally {
      this.closed = true;
      this.items.length = 0;
    }
  }

  private wake(): void {
    const n = this.notify;
    this.notify = undefined;
    n?.();
  }
}
