/**
 * The troubleshooting guide (docs/troubleshooting.md) has one row for every reason code the library
 * answers with (REASON_STATUS), with its status, and none for a reason the library does not have.
 */
import { describe, expect, it } from '@jest/globals';
import { readFileSync } from 'node:fs';
import { REASON_STATUS } from './errors/reason-codes.js';

/** The rows of the guide's tables whose first cell is a reason code: `| \`reason\` | status | …`. */
function documentedReasons(): Map<string, number[]> {
  const text = readFileSync(new URL('../docs/troubleshooting.md', import.meta.url), 'utf8');
  const rows = new Map<string, number[]>();
  for (const match of text.matchAll(/^\|\s*`([a-z_]+)`\s*\|\s*(\d{3})\s*\|/gm)) {
    rows.set(match[1], [...(rows.get(match[1]) ?? []), Number(match[2])]);
  }
  return rows;
}

describe('docs/troubleshooting.md', () => {
  it('has one row per reason code, with its status, and no other', () => {
    const documented = documentedReasons();
    expect(Object.fromEntries(documented)).toEqual(
      Object.fromEntries(Object.entries(REASON_STATUS).map(([reason, status]) => [reason, [status]])),
    );
  });
});
