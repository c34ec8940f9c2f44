/**
 * `text` with 1 to `maxEdits` random single-character edits (an insertion, a deletion or a replacement,
 * inserted and replacing characters drawn from `alphabet`): near-misses of valid input for the
 * differential tests of the parsers.
 */
export function mutateText(text: string, random: () => number, alphabet: readonly string[], maxEdits: number): string {
  const pick = () => alphabet[Math.floor(random() * alphabet.length)];
  let out = text;
  const n = 1 + Math.floor(random() * maxEdits);
  for (let i = 0; i < n; i++) {
    const at = Math.floor(random() * (out.length + 1));
    const op = random();
    if (op < 0.4) out = out.slice(0, at) + pick() + out.slice(at);
    else if (op < 0.7) out = out.slice(0, at) + out.slice(at + 1);
    else out = out.slice(0, at) + pick() + out.slice(at + 1);
  }
  return out;
}
