/** `String.prototype.isWellFormed` (ES2024, in every Node Ballast supports; not yet in our TS lib). */
interface WellFormedCheck {
  isWellFormed(): boolean;
}

/**
 * Whether the text is whole UTF-16: no lone surrogate (half of a character outside the BMP, as
 * `slice()` can leave). Such text cannot be encoded as UTF-8, so every store replaces it on the way in.
 */
export function isWellFormedText(text: string): boolean {
  return (text as unknown as WellFormedCheck).isWellFormed();
}

const CONTROL = /[\u0000-\u001f\u007f]/;

/**
 * Whether `value` is a string of 1 to `max` characters, none a control character, all whole: the
 * rule for the keys and ids callers give that become Redis keys and index entries.
 */
export function isPrintableText(value: unknown, max: number): value is string {
  return typeof value === 'string' && value.length > 0 && value.length <= max && !CONTROL.test(value) && isWellFormedText(value);
}
