/**
 * Whether `text` is well-formed UTF-16 (no lone surrogate): ES2024's String.prototype.isWellFormed,
 * which Node 20 has, typed here because the project compiles against the ES2023 library.
 *
 * Why it matters: `Buffer.from(text, 'utf8')` encodes a lone surrogate as U+FFFD, so two different
 * texts (one with U+FFFD, one with a lone surrogate) have the same bytes and the same digest. A
 * signed text is only taken when it is the one text its bytes stand for.
 */
export function isWellFormedText(text: string): boolean {
  return (text as string & { isWellFormed(): boolean }).isWellFormed();
}
