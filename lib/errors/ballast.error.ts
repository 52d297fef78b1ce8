/** Base class of every error Ballast throws on purpose; catch it to catch them all. */
export class BallastError extends Error {
  constructor(message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = new.target.name;
  }
}
