import { parseCanonicalSignature } from './canonical-signature-fields.js';
import { serializeCanonicalSignatureParams } from './canonical-signature-params.js';
import {
  isInnerList,
  parseDictionary,
  serializeInnerList,
  type BareItem,
  type Dictionary,
  type InnerList,
  type Item,
} from 'structured-headers';
import type { ParsedSignature, SignatureParameters } from './parsed-signature.js';
import { ServiceAuthError } from '../errors/service-auth.error.js';
import { MAX_COVERED_COMPONENTS, MAX_SIGNATURE_FIELD_LENGTH } from './covered-components.js';

const MAX_FIELD_LENGTH = MAX_SIGNATURE_FIELD_LENGTH;
const MAX_COMPONENTS = MAX_COVERED_COMPONENTS;

function malformed(message: string, detail?: string): ServiceAuthError {
  return new ServiceAuthError('signature_malformed', message, detail);
}

function parseField(name: string, value: string): Dictionary {
  if (value.length > MAX_FIELD_LENGTH) throw malformed(`${name} is too long`);
  try {
    return parseDictionary(value);
  } catch (err) {
    throw malformed(`${name} is not a valid structured dictionary (RFC 8941)`, (err as Error).message);
  }
}

const INTEGER_PARAMS = new Set(['created', 'expires']);
const STRING_PARAMS = new Set(['nonce', 'alg', 'keyid', 'tag']);

function readParams(label: string, [, parameters]: InnerList): SignatureParameters {
  const params: SignatureParameters = {};
  for (const [key, value] of parameters) {
    if (INTEGER_PARAMS.has(key)) {
      if (typeof value !== 'number' || !Number.isInteger(value) || value < 0) {
        throw malformed(`Signature-Input "${label}": parameter ${key} must be a non-negative integer`);
      }
      params[key as 'created' | 'expires'] = value;
    } else if (STRING_PARAMS.has(key)) {
      if (typeof value !== 'string') throw malformed(`Signature-Input "${label}": parameter ${key} must be a string`);
      params[key as 'nonce' | 'alg' | 'keyid' | 'tag'] = value;
    } else {
      throw malformed(`Signature-Input "${label}": unknown parameter ${key}`);
    }
  }
  return params;
}

function readComponents(label: string, items: Item[]): string[] {
  if (items.length > MAX_COMPONENTS) throw malformed(`Signature-Input "${label}" covers too many components`);
  const seen = new Set<string>();
  for (const [name, componentParams] of items) {
    if (typeof name !== 'string') throw malformed(`Signature-Input "${label}": component identifiers must be strings`);
    // Parameterised identifiers (;sf ;key ;bs ;req ;name) change the signed value; none are needed by
    // this protocol, and accepting them unverified would let a signer cover something else than it appears.
    if (componentParams.size > 0) throw malformed(`Signature-Input "${label}": component parameters are not supported ("${name}")`);
    if (seen.has(name)) throw malformed(`Signature-Input "${label}": component "${name}" is listed twice`);
    seen.add(name);
  }
  return [...seen];
}

/**
 * Parses Signature-Input and Signature and returns every labelled signature present in both.
 * Anything that is not exactly RFC 9421 (wrong types, duplicates, unknown parameters, a label
 * without its signature) is refused as `signature_malformed` rather than guessed at.
 */
export function parseSignatureFields(signatureInput: string, signature: string): ParsedSignature[] {
  // What signers send, already canonical, needs none of the general machinery below.
  const canonical = parseCanonicalSignature(signatureInput, signature);
  return canonical ? [canonical] : parseSignatureFieldsInFull(signatureInput, signature);
}

/** parseSignatureFields without its fast path: the RFC's algorithms for every input (exported for tests). */
export function parseSignatureFieldsInFull(signatureInput: string, signature: string): ParsedSignature[] {
  const inputs = parseField('Signature-Input', signatureInput);
  const signatures = parseField('Signature', signature);
  if (inputs.size === 0) throw malformed('Signature-Input is empty');
  const result: ParsedSignature[] = [];
  for (const [label, member] of inputs) {
    if (!isInnerList(member)) throw malformed(`Signature-Input "${label}" must be an inner list`);
    const sig = signatures.get(label);
    if (!sig) throw malformed(`Signature has no value for label "${label}"`);
    if (isInnerList(sig) || !(sig[0] instanceof ArrayBuffer)) throw malformed(`Signature "${label}" must be a byte sequence`);
    result.push({
      label,
      components: readComponents(label, member[0]),
      params: readParams(label, member),
      signatureParams: serializeInnerList(member),
      signature: Buffer.from(sig[0]),
    });
  }
  return result;
}

/** Serialises the inner list for Signature-Input and the `@signature-params` line (signer side). */
export function serializeSignatureParams(components: readonly string[], params: SignatureParameters): string {
  return serializeCanonicalSignatureParams(components, params) ?? serializeSignatureParamsInFull(components, params);
}

/** serializeSignatureParams without its fast path: structured-headers' serializer (exported for tests). */
export function serializeSignatureParamsInFull(components: readonly string[], params: SignatureParameters): string {
  const map = new Map<string, string | number>();
  for (const key of ['created', 'expires', 'nonce', 'keyid', 'alg', 'tag'] as const) {
    const value = params[key];
    if (value !== undefined) map.set(key, value);
  }
  return serializeInnerList([components.map((c): Item => [c, new Map<string, BareItem>()]), map]);
}
