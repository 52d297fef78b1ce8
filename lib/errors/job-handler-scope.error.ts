import { BallastError } from './ballast.error.js';

/**
 * A `@Job` or `@OnJobEvent` method on a provider that is not a singleton (request-scoped, transient,
 * or depending on a request-scoped provider); thrown at bootstrap. Workers run outside any request,
 * so there is no instance to call.
 */
export class JobHandlerScopeError extends BallastError {
  constructor(
    readonly className: string,
    readonly methodName: string,
    readonly scope: 'request' | 'transient',
  ) {
    super(
      `@Job/@OnJobEvent on ${className}.${methodName}, but ${className} is ${scope === 'transient' ? 'transient' : 'request-scoped (or depends on a request-scoped provider)'}. ` +
        'Handlers must live on singleton providers; inject request-scoped services through ModuleRef.resolve() inside the handler instead.',
    );
  }
}
