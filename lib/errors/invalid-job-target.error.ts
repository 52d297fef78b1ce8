import { BallastError } from './ballast.error.js';

/**
 * `@Job` or `@OnJobEvent` put on something that is not a method (a class, a property, an accessor);
 * thrown at bootstrap. `member` is the property name, or `undefined` for a class.
 */
export class InvalidJobTargetError extends BallastError {
  constructor(
    readonly decorator: '@Job' | '@OnJobEvent',
    readonly className: string,
    readonly member: string | undefined,
  ) {
    const where = member === undefined ? `the class ${className}` : `${className}.${member}, which is not a method`;
    super(`${decorator} is on ${where}; put it on a method of a provider.`);
  }
}
