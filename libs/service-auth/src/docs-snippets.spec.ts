/**
 * Every TypeScript snippet of the documentation compiles: the ```ts blocks of README.md, the library's
 * README.md and every guide under docs/ and libs/service-auth/docs/ (conventions in
 * test/support/doc-snippets.ts), type-checked together in one TypeScript program, strict, with the
 * decorators of a Nest app. `nest-service-auth` and its subpath entries resolve to the entries the
 * package exports (their sources); every other import resolves as in an app of this repository.
 * A snippet that does not compile fails with its document and line.
 */
import { beforeAll, describe, expect, it } from '@jest/globals';
import { join } from 'node:path';
import ts from 'typescript';
import { allSnippets, documentedFiles, REPOSITORY_ROOT, whereIs, type DocSnippet } from '../../../test/support/doc-snippets.js';

const LIBRARY_SOURCE = join(REPOSITORY_ROOT, 'libs/service-auth/src');
const ENTRIES = ['core', 'client', 'redis', 'throttler', 'testing', 'swagger', 'microservices'];

/** A user's compiler settings: strict, Nest's decorators, the package resolved through its entries. */
const COMPILER_OPTIONS: ts.CompilerOptions = {
  target: ts.ScriptTarget.ES2022,
  module: ts.ModuleKind.ESNext,
  moduleResolution: ts.ModuleResolutionKind.Bundler,
  lib: ['lib.es2023.d.ts'],
  types: ['node'],
  strict: true,
  experimentalDecorators: true,
  emitDecoratorMetadata: true,
  useDefineForClassFields: false,
  strictPropertyInitialization: false,
  esModuleInterop: true,
  skipLibCheck: true,
  noEmit: true,
  paths: {
    'nest-service-auth': [join(LIBRARY_SOURCE, 'index.ts')],
    ...Object.fromEntries(ENTRIES.map((entry) => [`nest-service-auth/${entry}`, [join(LIBRARY_SOURCE, `${entry}.ts`)]])),
  },
};

/** Where a snippet lives in the program: a folder per document, its own name or `snippet-<line>.ts`. */
function virtualPath(snippet: DocSnippet): string {
  const folder = snippet.document.replace(/[/\\.]/g, '_');
  return join(REPOSITORY_ROOT, '.doc-snippets', folder, snippet.file ?? `snippet-${snippet.line}.ts`);
}

interface Checked {
  /** Each snippet's diagnostics, as `document:line: message`. */
  bySnippet: Map<DocSnippet, string[]>;
  /** Diagnostics outside the snippets (the library itself, global ones). */
  elsewhere: string[];
}

function typeCheck(snippets: DocSnippet[]): Checked {
  const files = new Map<string, { snippet: DocSnippet; text: string; preludeLines: number }>();
  for (const snippet of snippets) {
    const path = virtualPath(snippet);
    if (files.has(path)) throw new Error(`${whereIs(snippet)}: a second block names ${snippet.file} in the same document`);
    const prelude = snippet.prelude ? `${snippet.prelude}\n` : '';
    files.set(path, { snippet, text: `${prelude}${snippet.code}\nexport {};\n`, preludeLines: prelude.split('\n').length - 1 });
  }
  const host = ts.createCompilerHost(COMPILER_OPTIONS, true);
  const { fileExists, readFile, getSourceFile, directoryExists } = host;
  const folders = new Set([...files.keys()].flatMap((path) => path.split('/').map((_, i, parts) => parts.slice(0, i).join('/'))));
  host.fileExists = (name) => files.has(name) || fileExists.call(host, name);
  host.directoryExists = (name) => folders.has(name.replace(/\/$/, '')) || (directoryExists?.call(host, name) ?? true);
  host.readFile = (name) => files.get(name)?.text ?? readFile.call(host, name);
  host.getSourceFile = (name, language, onError, create) => {
    const file = files.get(name);
    return file ? ts.createSourceFile(name, file.text, language, true) : getSourceFile.call(host, name, language, onError, create);
  };
  const program = ts.createProgram([...files.keys()], COMPILER_OPTIONS, host);
  const bySnippet = new Map<DocSnippet, string[]>(snippets.map((snippet) => [snippet, []]));
  const elsewhere: string[] = [];
  for (const diagnostic of ts.getPreEmitDiagnostics(program)) {
    const message = ts.flattenDiagnosticMessageText(diagnostic.messageText, '\n');
    const file = diagnostic.file && files.get(diagnostic.file.fileName);
    if (!file || !diagnostic.file || diagnostic.start === undefined) {
      elsewhere.push(`${diagnostic.file?.fileName ?? '(global)'}: ${message}`);
      continue;
    }
    const { line } = diagnostic.file.getLineAndCharacterOfPosition(diagnostic.start);
    const inPrelude = line < file.preludeLines;
    const documentLine = inPrelude ? `${file.snippet.line - 1} (its snippet comment)` : `${file.snippet.line + line - file.preludeLines}`;
    bySnippet.get(file.snippet)!.push(`${file.snippet.document}:${documentLine}: TS${diagnostic.code} ${message}`);
  }
  return { bySnippet, elsewhere };
}

const snippets = allSnippets();

describe('documentation snippets', () => {
  let checked: Checked;

  beforeAll(() => {
    checked = typeCheck(snippets);
  }, 180_000);

  it('are found in the front pages and the guides', () => {
    const documents = new Set(snippets.map((snippet) => snippet.document));
    expect(documents).toContain('libs/service-auth/README.md');
    expect(documentedFiles().filter((file) => file.startsWith('libs/service-auth/docs/')).length).toBeGreaterThan(5);
    expect(snippets.length).toBeGreaterThan(20);
  });

  it('type-check the library they import without an error', () => {
    expect(checked.elsewhere).toEqual([]);
  });

  it.each(snippets.map((snippet) => [whereIs(snippet), snippet] as const))('%s compiles', (_where, snippet) => {
    expect(checked.bySnippet.get(snippet)).toEqual([]);
  });
});
