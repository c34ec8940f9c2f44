/** RFC 9421 §2.3 signature parameters. */
export interface SignatureParameters {
  created?: number;
  expires?: number;
  nonce?: string;
  alg?: string;
  keyid?: string;
  tag?: string;
}

/** One labelled member of Signature-Input, with the matching Signature value. */
export interface ParsedSignature {
  label: string;
  components: string[];
  params: SignatureParameters;
  /** The `@signature-params` value: the canonical serialisation of the inner list. */
  signatureParams: string;
  signature: Buffer;
}
