/**
 * The TypeScript snippets of the documentation, as docs-snippets.spec.ts type-checks them and
 * quick-start.e2e-spec.ts runs them.
 *
 * Every ```ts (or ```typescript) block of the documents below is a snippet, indented ones (in a list) too. Conventions, kept rare:
 * - A block whose first line is a comment naming a `.ts` file (`// inventory-service/src/main.ts`)
 *   is that file of the document: other blocks of the same document import it by that path
 *   (`import { AppModule } from './app.module'`).
 * - A fragment, a block that uses names it does not declare, is preceded by an HTML comment that
 *   declares them; its lines are put before the block when it is compiled:
 *
 *       <!-- snippet: fragment
 *       declare const app: INestApplication;
 *       -->
 */
import { readdirSync, readFileSync } from 'node:fs';
import { join, relative } from 'node:path';
import { fileURLToPath } from 'node:url';

export const REPOSITORY_ROOT = fileURLToPath(new URL('../../', import.meta.url));

export interface DocSnippet {
  /** The document, relative to the repository root (`libs/service-auth/README.md`). */
  document: string;
  /** The line of the document the code starts on (1-based, after the opening fence). */
  line: number;
  /** The code of the block, as written. */
  code: string;
  /** The declarations of a fragment's comment (empty for a complete snippet). */
  prelude: string;
  /** The file the block says it is (`inventory-service/src/main.ts`), if it names one. */
  file?: string;
}

/** The documents whose snippets are checked: both front pages and every guide. */
export function documentedFiles(root = REPOSITORY_ROOT): string[] {
  const guides = (dir: string): string[] => {
    let entries: string[];
    try {
      entries = readdirSync(join(root, dir), { recursive: true, encoding: 'utf8' });
    } catch {
      return [];
    }
    return entries
      .filter((name) => name.endsWith('.md'))
      .map((name) => join(dir, name))
      .sort();
  };
  return ['README.md', 'libs/service-auth/README.md', ...guides('docs'), ...guides('libs/service-auth/docs')];
}

const FENCE = /^(\s*)```(\w*)\s*$/;
const FRAGMENT_START = /^\s*<!--\s*snippet:\s*(\S+)/;
const NAMED_FILE = /^\/\/\s*([\w.@/-]+\.ts)\b/;

/** The snippets of one document (`text` is its content, `document` its path for messages). */
export function snippetsOf(document: string, text: string): DocSnippet[] {
  const lines = text.split('\n');
  const snippets: DocSnippet[] = [];
  let prelude: string | undefined;
  for (let i = 0; i < lines.length; i++) {
    const directive = FRAGMENT_START.exec(lines[i]);
    if (directive) {
      if (directive[1] !== 'fragment')
        throw new Error(`${document}:${i + 1}: unknown snippet directive "${directive[1]}" (only "fragment")`);
      const body: string[] = [];
      let j = i;
      const first = lines[i].replace(FRAGMENT_START, '');
      if (first.includes('-->')) {
        body.push(first.slice(0, first.indexOf('-->')));
      } else {
        body.push(first);
        for (j = i + 1; j < lines.length && !lines[j].includes('-->'); j++) body.push(lines[j]);
        if (j === lines.length) throw new Error(`${document}:${i + 1}: snippet comment never closed`);
        body.push(lines[j].slice(0, lines[j].indexOf('-->')));
      }
      prelude = body.join('\n').trim();
      i = j;
      continue;
    }
    const fence = FENCE.exec(lines[i]);
    if (!fence) {
      if (prelude !== undefined && lines[i].trim() !== '')
        throw new Error(`${document}:${i + 1}: a snippet comment must come right before its block`);
      continue;
    }
    const [, indent, language] = fence;
    const start = i + 1;
    let end = start;
    while (end < lines.length && !/^\s*```\s*$/.test(lines[end])) end++;
    if (end === lines.length) throw new Error(`${document}:${i + 1}: code block never closed`);
    if (language === 'ts' || language === 'typescript') {
      // A block inside a list item is indented as its fence is.
      const code = lines
        .slice(start, end)
        .map((line) => (line.startsWith(indent) ? line.slice(indent.length) : line))
        .join('\n');
      snippets.push({ document, line: start + 1, code, prelude: prelude ?? '', file: NAMED_FILE.exec(code.split('\n')[0])?.[1] });
    } else if (prelude !== undefined) {
      throw new Error(`${document}:${i + 1}: a snippet comment precedes a block that is not TypeScript`);
    }
    prelude = undefined;
    i = end;
  }
  return snippets;
}

/** Every snippet of every documented file. */
export function allSnippets(root = REPOSITORY_ROOT): DocSnippet[] {
  return documentedFiles(root).flatMap((document) => snippetsOf(document, readFileSync(join(root, document), 'utf8')));
}

/** `document:line`, how a snippet is named in test titles and messages. */
export function whereIs(snippet: DocSnippet): string {
  return `${snippet.document}:${snippet.line}`;
}

/** A path relative to the repository root, with forward slashes. */
export function fromRoot(path: string, root = REPOSITORY_ROOT): string {
  return relative(root, path).split('\\').join('/');
}
