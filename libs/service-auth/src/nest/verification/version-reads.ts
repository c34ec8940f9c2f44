import type { IncomingMessage } from 'node:http';
import { ServiceAuthError } from '../../errors/service-auth.error.js';

/** Where the recording version extractor leaves what it saw read on a request (see recordingVersionExtractor). */
const VERSION_READS = Symbol('nest-service-auth:version-reads');

/**
 * What a custom version extractor read of one request while Nest chose its handler: the headers it
 * read by name, whether it went through all of them (enumerated them, or read `rawHeaders`), and any
 * other member of the request it read (which no signature covers). A look at start-up cannot know
 * this: an extractor may read a header for some URLs only, or list the headers rather than name one.
 */
export class VersionReads {
  readonly #headers = new Set<string>();
  readonly #uncovered = new Set<string>();
  #everyHeader = false;

  header(name: string): void {
    this.#headers.add(name.toLowerCase());
  }

  everyHeader(): void {
    this.#everyHeader = true;
  }

  uncoveredMember(name: string): void {
    this.#uncovered.add(name);
  }

  /**
   * The headers the signature must cover for the handler Nest chose to be the one signed for; or the
   * refusal, when the choice rested on what no signature can cover. Listing every header includes the
   * Signature header itself, which a signature cannot cover, so such an extractor is refused outright
   * (with what to do instead) rather than asked for an impossible list.
   */
  requiredComponents(): readonly string[] {
    if (this.#uncovered.size > 0) {
      throw new ServiceAuthError(
        'signature_incomplete',
        `The version of this route is chosen from request.${[...this.#uncovered].join(', request.')}, which no signature can cover`,
      );
    }
    if (this.#everyHeader) {
      throw new ServiceAuthError(
        'signature_incomplete',
        'The version of this route is chosen by going through every header of the request, which no signature can cover: ' +
          'the version extractor must read the version header by name',
      );
    }
    return [...this.#headers];
  }
}

type RecordedRequest = IncomingMessage & { [VERSION_READS]?: VersionReads };

/**
 * The record of `req` (Node's request), made on first use. A hidden property rather than a table kept
 * by the library: it lives and dies with the request, and nothing that prints the request shows it.
 */
export function versionReadsFor(req: IncomingMessage): VersionReads {
  const recorded = req as RecordedRequest;
  let reads = recorded[VERSION_READS];
  if (!reads) {
    reads = new VersionReads();
    Object.defineProperty(req, VERSION_READS, { value: reads, configurable: true, writable: true, enumerable: false });
  }
  return reads;
}

/** What the version extractor read of `req` (Node's request), or undefined when Nest did not call it. */
export function versionReadsOf(req: IncomingMessage): VersionReads | undefined {
  return (req as RecordedRequest)[VERSION_READS];
}
