/** Metadata key on a class listing Ballast decorators put on things that are not instance methods. */
export const MISPLACED_DECORATOR_METADATA = 'ballast:misplaced-decorator';

export interface MisplacedDecorator {
  decorator: '@Job' | '@OnJobEvent';
  /** The property or static member; `undefined` when the decorator is on the class itself. */
  member: string | undefined;
}

/**
 * Decorators cannot fail usefully at class definition (no Nest logger, no names of the app yet),
 * so a misplaced one is recorded on its class and reported by the explorer at bootstrap.
 */
export function recordMisplacedDecorator(decorator: MisplacedDecorator['decorator'], target: object, key: string | symbol | undefined): void {
  // A class decorator and a static member get the constructor; an instance member gets the prototype.
  const ctor = typeof target === 'function' ? target : (target as { constructor: object }).constructor;
  const member = key === undefined ? undefined : typeof target === 'function' ? `static ${String(key)}` : String(key);
  const existing = (Reflect.getMetadata(MISPLACED_DECORATOR_METADATA, ctor) as MisplacedDecorator[] | undefined) ?? [];
  Reflect.defineMetadata(MISPLACED_DECORATOR_METADATA, [...existing, { decorator, member }], ctor);
}
