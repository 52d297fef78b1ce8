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
