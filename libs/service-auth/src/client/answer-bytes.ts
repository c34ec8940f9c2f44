import type { AxiosResponseHeaders, RawAxiosResponseHeaders } from 'axios';

/**
 * The exact bytes of an answer, kept for its signature check, and the data axios would have made
 * of them: axios is asked for the raw bytes (responseType 'arraybuffer'), and this parses them as
 * its default transform does for the call's own responseType ('json' or none: JSON when it parses,
 * else the text; 'text': the text; 'arraybuffer': the bytes).
 */
export class AnswerBytes {
  private captured: Buffer | undefined;

  /** The transform handed to axios: records the bytes, returns the data. */
  readonly transform = (data: unknown, _headers?: AxiosResponseHeaders | RawAxiosResponseHeaders): unknown => {
    const bytes = Buffer.isBuffer(data)
      ? data
      : data instanceof ArrayBuffer
        ? Buffer.from(data)
        : Buffer.from(typeof data === 'string' ? data : '', 'utf8');
    this.captured = bytes;
    return parseLikeAxios(bytes, this.responseType);
  };

  constructor(private readonly responseType: string | undefined) {}

  /** The bytes received; empty when no body arrived. */
  get bytes(): Buffer {
    return this.captured ?? Buffer.alloc(0);
  }
}

function parseLikeAxios(bytes: Buffer, responseType: string | undefined): unknown {
  if (responseType === 'arraybuffer') return bytes;
  const text = bytes.toString('utf8');
  if (responseType === 'text' || text === '') return text;
  try {
    return JSON.parse(text);
  } catch {
    return text;
  }
}
