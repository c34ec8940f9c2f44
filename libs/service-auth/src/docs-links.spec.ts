/**
 * Every relative link of the documentation leads somewhere: in each Markdown file of the repository
 * (both front pages, the guides, PROTOCOL.md, SECURITY.md, CHANGELOG.md), a link to a file names a
 * file that exists, and a link to a heading (`#anchor`, in the same document or another) names a
 * heading of that document, slugged as GitHub slugs them. Links in code blocks and inline code are
 * not links; absolute URLs (`https:`, `mailto:`) are not checked.
 */
import { describe, expect, it } from '@jest/globals';
import { execFileSync } from 'node:child_process';
import { existsSync, readFileSync, statSync } from 'node:fs';
import { dirname, join, relative } from 'node:path';
import { REPOSITORY_ROOT } from '../../../test/support/doc-snippets.js';

/** The Markdown files under version control (so none of node_modules or build output). */
function markdownFiles(): string[] {
  return execFileSync('git', ['ls-files', '*.md'], { cwd: REPOSITORY_ROOT, encoding: 'utf8' })
    .split('\n')
    .filter((path) => path !== '' && existsSync(join(REPOSITORY_ROOT, path)));
}

/** The text of a document outside its fenced code blocks, line numbers kept (fenced lines become empty). */
function proseLines(text: string): string[] {
  let fence: string | undefined;
  return text.split('\n').map((line) => {
    const marker = /^\s*(`{3,}|~{3,})/.exec(line)?.[1];
    if (fence === undefined && marker) {
      fence = marker;
      return '';
    }
    if (fence !== undefined) {
      if (marker && marker[0] === fence[0] && marker.length >= fence.length && line.trim() === marker) fence = undefined;
      return '';
    }
    return line;
  });
}

/** GitHub's anchor for a heading: lower case, punctuation dropped, spaces become hyphens. */
function slug(heading: string): string {
  return heading
    .replace(/<[^>]+>/g, '')
    .replace(/\[([^\]]*)\]\([^)]*\)/g, '$1')
    .toLowerCase()
    .replace(/[^\p{L}\p{N}\s_-]/gu, '')
    .replace(/\s/g, '-');
}

/** The anchors of a document: one per heading (repeated ones numbered as GitHub does), and explicit `<a id>`/`<a name>`. */
function anchorsOf(text: string): Set<string> {
  const anchors = new Set<string>();
  const seen = new Map<string, number>();
  for (const line of proseLines(text)) {
    const heading = /^#{1,6}\s+(.*?)\s*#*\s*$/.exec(line)?.[1];
    if (heading !== undefined) {
      const base = slug(heading);
      const count = seen.get(base) ?? 0;
      seen.set(base, count + 1);
      anchors.add(count === 0 ? base : `${base}-${count}`);
    }
    for (const match of line.matchAll(/<a\s+(?:id|name)="([^"]+)"/g)) anchors.add(match[1]);
  }
  return anchors;
}

interface Link {
  line: number;
  target: string;
}

/** The relative links of a document: inline `[text](target)`, images, and reference definitions. */
function linksOf(text: string): Link[] {
  const links: Link[] = [];
  proseLines(text).forEach((raw, index) => {
    const line = raw.replace(/`[^`]*`/g, '``');
    for (const match of line.matchAll(/\]\(\s*<?([^)\s>]+)>?(?:\s+"[^"]*")?\s*\)/g)) links.push({ line: index + 1, target: match[1] });
    const definition = /^\s{0,3}\[[^\]]+\]:\s*<?(\S+?)>?(?:\s+"[^"]*")?\s*$/.exec(line);
    if (definition) links.push({ line: index + 1, target: definition[1] });
  });
  return links.filter(({ target }) => !/^[a-z][a-z0-9+.-]*:/i.test(target));
}

function brokenLinks(): string[] {
  const broken: string[] = [];
  const anchorCache = new Map<string, Set<string>>();
  const anchors = (path: string) => {
    let found = anchorCache.get(path);
    if (!found) anchorCache.set(path, (found = anchorsOf(readFileSync(path, 'utf8'))));
    return found;
  };
  for (const document of markdownFiles()) {
    const path = join(REPOSITORY_ROOT, document);
    for (const { line, target } of linksOf(readFileSync(path, 'utf8'))) {
      const [file, anchor] = target.split('#', 2) as [string, string | undefined];
      const destination = file === '' ? path : join(dirname(path), decodeURIComponent(file));
      const where = `${document}:${line}: ${target}`;
      if (!existsSync(destination)) {
        broken.push(`${where} (no file ${relative(REPOSITORY_ROOT, destination)})`);
        continue;
      }
      if (anchor === undefined || anchor === '') continue;
      if (!destination.endsWith('.md') || statSync(destination).isDirectory()) {
        if (!/^L\d+(-L\d+)?$/.test(anchor)) broken.push(`${where} (an anchor into a file that is not Markdown)`);
        continue;
      }
      if (!anchors(destination).has(decodeURIComponent(anchor))) broken.push(`${where} (no heading #${anchor})`);
    }
  }
  return broken;
}

describe('documentation links', () => {
  it('finds the documents and their links', () => {
    const documents = markdownFiles();
    expect(documents).toEqual(expect.arrayContaining(['README.md', 'libs/service-auth/README.md', 'libs/service-auth/PROTOCOL.md']));
    const links = documents.flatMap((document) => linksOf(readFileSync(join(REPOSITORY_ROOT, document), 'utf8')));
    expect(links.length).toBeGreaterThan(50);
  });

  it('slugs headings as GitHub does', () => {
    expect([
      ...anchorsOf('# Quick start\n## Start-up: `ServiceAuthModule.setup`\n## 2.2 Request targets, and body coding\n## A\n## A\n'),
    ]).toEqual(['quick-start', 'start-up-serviceauthmodulesetup', '22-request-targets-and-body-coding', 'a', 'a-1']);
  });

  it('every relative link names an existing file and heading', () => {
    expect(brokenLinks()).toEqual([]);
  });
});
