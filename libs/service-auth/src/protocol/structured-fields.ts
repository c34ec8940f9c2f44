/**
 * RFC 8941 structured field values: the Dictionary parser (§4.2.2) and the serialisers (§4.1) that
 * Signature-Input, Signature and Content-Digest need, following the RFC's algorithms step by step.
 *
 * It is written for the verification hot path: one pass over the string, no regular expressions,
 * no copies of the input. It is checked against the `structured-headers` package by a differential
 * test over thousands of generated and mutated fields (structured-fields.spec.ts).
 * RFC 9651 additions (Dates, Display Strings) are not part of RFC 8941 and are refused.
 */

export class StructuredFieldError extends Error {
  constructor(
    message: string,
    readonly position: number,
  ) {
    super(`${message} at position ${position}`);
    this.name = 'StructuredFieldError';
  }
}

/** A Token (§3.3.4), kept apart from a String because the two serialise differently. */
export class SfToken {
  constructor(readonly value: string) {}
}

/** A Decimal (§3.3.2), kept apart from an Integer for the same reason. */
export class SfDecimal {
  constructor(readonly value: number) {}
}

export type BareItem = number | SfDecimal | string | SfToken | Buffer | boolean;
export type Parameters = Map<string, BareItem>;
export interface Item {
  readonly value: BareItem;
  readonly params: Parameters;
}
export interface InnerList {
  readonly items: Item[];
  readonly params: Parameters;
}
export type Dictionary = Map<string, Item | InnerList>;

/** The parameters of every parsed item that has none. Read-only by contract: never mutate it. */
const NO_PARAMETERS: Parameters = new Map();

export function isInnerList(member: Item | InnerList): member is InnerList {
  return (member as InnerList).items !== undefined;
}

const SP = 0x20;
const HTAB = 0x09;

function isDigit(c: number): boolean {
  return c >= 0x30 && c <= 0x39;
}
function isLcAlpha(c: number): boolean {
  return c >= 0x61 && c <= 0x7a;
}
function isAlpha(c: number): boolean {
  return isLcAlpha(c) || (c >= 0x41 && c <= 0x5a);
}
// tchar (RFC 9110 §5.6.2): "!#$%&'*+-.^_`|~" DIGIT ALPHA
export function isTchar(c: number): boolean {
  if (isAlpha(c) || isDigit(c)) return true;
  switch (c) {
    case 0x21:
    case 0x23:
    case 0x24:
    case 0x25:
    case 0x26:
    case 0x27:
    case 0x2a:
    case 0x2b:
    case 0x2d:
    case 0x2e:
    case 0x5e:
    case 0x5f:
    case 0x60:
    case 0x7c:
    case 0x7e:
      return true;
    default:
      return false;
  }
}
function isBase64(c: number): boolean {
  return isAlpha(c) || isDigit(c) || c === 0x2b || c === 0x2f || c === 0x3d;
}

class Parser {
  pos = 0;
  constructor(readonly input: string) {}

  fail(message: string): never {
    throw new StructuredFieldError(message, this.pos);
  }

  peek(): number {
    return this.pos < this.input.length ? this.input.charCodeAt(this.pos) : -1;
  }

  skipSP(): void {
    while (this.peek() === SP) this.pos++;
  }

  skipOWS(): void {
    let c = this.peek();
    while (c === SP || c === HTAB) c = this.input.charCodeAt(++this.pos);
  }

  // §4.2.2
  dictionary(): Dictionary {
    const dictionary: Dictionary = new Map();
    while (this.pos < this.input.length) {
      const key = this.key();
      let member: Item | InnerList;
      if (this.peek() === 0x3d /* = */) {
        this.pos++;
        member = this.itemOrInnerList();
      } else {
        member = { value: true, params: this.parameters() };
      }
      dictionary.set(key, member);
      this.skipOWS();
      if (this.pos >= this.input.length) return dictionary;
      if (this.peek() !== 0x2c /* , */) this.fail('expected "," between dictionary members');
      this.pos++;
      this.skipOWS();
      if (this.pos >= this.input.length) this.fail('trailing comma');
    }
    return dictionary;
  }

  // §4.2.1.1
  itemOrInnerList(): Item | InnerList {
    return this.peek() === 0x28 /* ( */ ? this.innerList() : this.item();
  }

  // §4.2.1.2
  innerList(): InnerList {
    this.pos++; // (
    const items: Item[] = [];
    while (this.pos < this.input.length) {
      this.skipSP();
      if (this.peek() === 0x29 /* ) */) {
        this.pos++;
        return { items, params: this.parameters() };
      }
      items.push(this.item());
      const c = this.peek();
      if (c !== SP && c !== 0x29) this.fail('expected " " or ")" in inner list');
    }
    return this.fail('unterminated inner list');
  }

  // §4.2.3
  item(): Item {
    const value = this.bareItem();
    return { value, params: this.parameters() };
  }

  // §4.2.3.1
  bareItem(): BareItem {
    const c = this.peek();
    if (c === 0x2d /* - */ || isDigit(c)) return this.number();
    if (c === 0x22 /* " */) return this.string();
    if (c === 0x2a /* * */ || isAlpha(c)) return this.token();
    if (c === 0x3a /* : */) return this.byteSequence();
    if (c === 0x3f /* ? */) return this.boolean();
    return this.fail('unexpected character for an item');
  }

  // §4.2.3.2
  parameters(): Parameters {
    // Most items carry no parameters: they share one empty map instead of allocating their own.
    if (this.peek() !== 0x3b /* ; */) return NO_PARAMETERS;
    const params: Parameters = new Map();
    while (this.peek() === 0x3b /* ; */) {
      this.pos++;
      this.skipSP();
      const key = this.key();
      let value: BareItem = true;
      if (this.peek() === 0x3d /* = */) {
        this.pos++;
        value = this.bareItem();
      }
      params.set(key, value);
    }
    return params;
  }

  // §4.2.3.3
  key(): string {
    const start = this.pos;
    const first = this.peek();
    if (!isLcAlpha(first) && first !== 0x2a) this.fail('a key must start with a lowercase letter or "*"');
    this.pos++;
    for (let c = this.peek(); isLcAlpha(c) || isDigit(c) || c === 0x5f || c === 0x2d || c === 0x2e || c === 0x2a; c = this.peek()) {
      this.pos++;
    }
    return this.input.slice(start, this.pos);
  }

  // §4.2.4
  number(): number | SfDecimal {
    const start = this.pos;
    let sign = 1;
    if (this.peek() === 0x2d) {
      sign = -1;
      this.pos++;
    }
    if (!isDigit(this.peek())) this.fail('a number needs a digit');
    const digitsStart = this.pos;
    let dot = -1;
    for (let c = this.peek(); isDigit(c) || (c === 0x2e && dot < 0); c = this.peek()) {
      if (c === 0x2e) {
        if (this.pos - digitsStart > 12) this.fail('too many integer digits in a decimal');
        dot = this.pos;
      }
      this.pos++;
      if (dot < 0 && this.pos - digitsStart > 15) this.fail('an integer has at most 15 digits');
      if (dot >= 0 && this.pos - digitsStart > 16) this.fail('a decimal has at most 16 characters');
    }
    const text = this.input.slice(digitsStart, this.pos);
    if (dot < 0) return sign * Number(text);
    const fraction = this.pos - dot - 1;
    if (fraction < 1 || fraction > 3) this.fail(`a decimal has 1 to 3 fractional digits (${this.input.slice(start, this.pos)})`);
    return new SfDecimal(sign * Number(text));
  }

  // §4.2.5
  string(): string {
    this.pos++; // "
    let out = '';
    let chunk = this.pos;
    while (this.pos < this.input.length) {
      const c = this.input.charCodeAt(this.pos);
      if (c === 0x5c /* \ */) {
        const next = this.input.charCodeAt(this.pos + 1);
        if (next !== 0x22 && next !== 0x5c) this.fail('invalid escape in a string');
        out += this.input.slice(chunk, this.pos);
        this.pos += 2;
        chunk = this.pos - 1;
        continue;
      }
      if (c === 0x22) {
        out += this.input.slice(chunk, this.pos);
        this.pos++;
        return out;
      }
      if (c < 0x20 || c > 0x7e) this.fail('invalid character in a string');
      this.pos++;
    }
    return this.fail('unterminated string');
  }

  // §4.2.6
  token(): SfToken {
    const start = this.pos;
    this.pos++;
    for (let c = this.peek(); isTchar(c) || c === 0x3a || c === 0x2f; c = this.peek()) this.pos++;
    return new SfToken(this.input.slice(start, this.pos));
  }

  // §4.2.7
  byteSequence(): Buffer {
    this.pos++; // :
    const start = this.pos;
    for (let c = this.peek(); c !== 0x3a; c = this.peek()) {
      if (c < 0 || !isBase64(c)) this.fail('invalid character in a byte sequence');
      this.pos++;
    }
    let content = this.input.slice(start, this.pos);
    this.pos++; // :
    // Forgiving base64 (as atob): padding only at the end of a multiple of 4, no stray "=", no
    // length that no encoding produces. Missing padding is accepted, as §4.2.7 recommends.
    if (content.length % 4 === 0 && content.endsWith('=')) content = content.slice(0, content.endsWith('==') ? -2 : -1);
    if (content.includes('=') || content.length % 4 === 1) this.fail('invalid base64 in a byte sequence');
    return Buffer.from(content, 'base64');
  }

  // §4.2.8
  boolean(): boolean {
    this.pos++; // ?
    const c = this.peek();
    if (c !== 0x30 && c !== 0x31) this.fail('a boolean is ?0 or ?1');
    this.pos++;
    return c === 0x31;
  }
}

/** §4.2 with field type Dictionary. Throws StructuredFieldError on anything that is not one. */
export function parseDictionaryField(field: string): Dictionary {
  for (let i = 0; i < field.length; i++) {
    if (field.charCodeAt(i) > 0x7e) throw new StructuredFieldError('a structured field is ASCII', i);
  }
  // Leading and trailing SP are discarded (§4.2 steps 2 and 6).
  let start = 0;
  let end = field.length;
  while (start < end && field.charCodeAt(start) === SP) start++;
  while (end > start && field.charCodeAt(end - 1) === SP) end--;
  const parser = new Parser(start === 0 && end === field.length ? field : field.slice(start, end));
  return parser.dictionary();
}

// §4.1 serialisation -----------------------------------------------------------------------------

// Printable ASCII without `"` and `\`: the common case, serialised as is.
const PLAIN_STRING = /^[\x20\x21\x23-\x5b\x5d-\x7e]*$/;

function serializeString(value: string): string {
  if (PLAIN_STRING.test(value)) return `"${value}"`;
  let out = '"';
  for (let i = 0; i < value.length; i++) {
    const c = value.charCodeAt(i);
    if (c < 0x20 || c > 0x7e) throw new TypeError('a structured-field string is printable ASCII');
    out += c === 0x22 || c === 0x5c ? `\\${value[i]}` : value[i];
  }
  return `${out}"`;
}

export function serializeBareItem(value: BareItem): string {
  if (typeof value === 'number') {
    if (!Number.isInteger(value) || Math.abs(value) > 999_999_999_999_999) throw new TypeError('not a structured-field integer');
    return String(value);
  }
  if (typeof value === 'string') return serializeString(value);
  if (typeof value === 'boolean') return value ? '?1' : '?0';
  if (value instanceof SfToken) return value.value;
  if (value instanceof SfDecimal) {
    const rounded = Math.round(value.value * 1000) / 1000;
    return Number.isInteger(rounded) ? `${rounded}.0` : String(rounded);
  }
  return `:${value.toString('base64')}:`;
}

export function serializeParameters(params: ReadonlyMap<string, BareItem>): string {
  let out = '';
  for (const [key, value] of params) out += value === true ? `;${key}` : `;${key}=${serializeBareItem(value)}`;
  return out;
}

export function serializeInnerList(list: InnerList): string {
  let out = '(';
  for (let i = 0; i < list.items.length; i++) {
    const item = list.items[i];
    out += (i === 0 ? '' : ' ') + serializeBareItem(item.value) + serializeParameters(item.params);
  }
  return `${out})${serializeParameters(list.params)}`;
}
