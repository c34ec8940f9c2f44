/**
 * ECDH-ES over X25519 + A256GCM: the profile's reference vector (PROTOCOL.md, "X25519 encryption",
 * made by `jose` from RFC 7748 §6.1's key pair) is reproduced, and `jose` opens what we seal and we
 * open what it seals, both ways; every bad input is a ServiceAuthError with its reason.
 */
import { describe, expect, it } from '@jest/globals';
import { createDecipheriv, createPrivateKey, createPublicKey, diffieHellman, generateKeyPairSync, type KeyObject } from 'node:crypto';
import { CompactEncrypt, compactDecrypt } from 'jose';
import { ServiceAuthError } from '../errors/service-auth.error.js';
import { decryptEcdhEs, encryptEcdhEs } from './ecdh-es-jwe.js';
import { readOkpKeyText } from '../keys/okp-key-text.js';

/** RFC 7748 §6.1: Alice's key is the callee's, Bob's the sender's ephemeral key. */
const x25519Private = (hex: string): KeyObject =>
  createPrivateKey({ key: Buffer.from(`302e020100300506032b656e04220420${hex}`, 'hex'), format: 'der', type: 'pkcs8' });
const CALLEE = x25519Private('77076d0a7318a57d3c16c17251b26645df4c2f87ebc0992ab177fba51db92c2a');
const EPHEMERAL = x25519Private('5dab087e624a8a4b79e17f8b83800ee66f3bb1292618b6fd1c2f8b27ff88e0eb');

/** PROTOCOL.md's vector: the request body {"productId":"P123","quantity":2} to inventory-x25519-1, IV 000102…0b. */
const VECTOR = {
  calleePrivateKey: 'MC4CAQAwBQYDK2VuBCIEIHcHbQpzGKV9PBbBclGyZkXfTC-H68CZKrF3-6UduSwq',
  calleePublicKey: 'MCowBQYDK2VuAyEAhSDwCYkwp1R0i33ctD73Wg2_Og0mOBr066SpjqqbTmo',
  sharedSecretHex: '4a5d9d5ba4ce2de1728e3bf480350f25e07e21c947d19e3376f09b3c1e161742',
  contentKeyHex: 'd3f1a933aa331e5d3204beab09cddb96dbdaba47a555530b70fa4af7187c6edd',
  jwe:
    'eyJhbGciOiJFQ0RILUVTIiwiZW5jIjoiQTI1NkdDTSIsImtpZCI6ImludmVudG9yeS14MjU1MTktMSIsImN0eSI6ImFwcGxpY2F0aW9uL2pzb24iLCJlcGsiOnsieCI6IjNwN2JmWHQ5d2JUVFcySEM3T1ExTnotRFE4aGJlR2ROcmZ4LUZHLUlLMDgiLCJjcnYiOiJYMjU1MTkiLCJrdHkiOiJPS1AifX0' +
    '..AAECAwQFBgcICQoL.HFAbKGV4HYac6Nx1Q6csb_ZwQ8Dx-Zw2GldVr98PYcFh.NrTJ1oCY0z1qC49iwhQuFQ',
  plaintext: '{"productId":"P123","quantity":2}',
};

const reasonOf = (fn: () => unknown): string | undefined => {
  try {
    fn();
    return undefined;
  } catch (err) {
    return err instanceof ServiceAuthError ? err.reason : `not a ServiceAuthError: ${String(err)}`;
  }
};

describe('ECDH-ES (X25519) + A256GCM', () => {
  it('reproduces the reference vector: key texts, agreement, content key (jose, with the same epk and IV, makes the same JWE)', async () => {
    expect(readOkpKeyText(VECTOR.calleePrivateKey, 'x25519')?.kind).toBe('private');
    expect(readOkpKeyText(VECTOR.calleePublicKey, 'x25519')?.kind).toBe('public');
    expect(createPublicKey(CALLEE).export({ format: 'der', type: 'spki' }).toString('base64url')).toBe(VECTOR.calleePublicKey);
    expect(diffieHellman({ privateKey: EPHEMERAL, publicKey: createPublicKey(CALLEE) }).toString('hex')).toBe(VECTOR.sharedSecretHex);

    const opened = decryptEcdhEs(VECTOR.jwe, (kid) =>
      kid === 'inventory-x25519-1' ? readOkpKeyText(VECTOR.calleePrivateKey, 'x25519')!.key : undefined,
    );
    expect(opened.plaintext.toString()).toBe(VECTOR.plaintext);
    expect(opened.header).toMatchObject({ alg: 'ECDH-ES', enc: 'A256GCM', kid: 'inventory-x25519-1', cty: 'application/json' });
    expect(opened.senderKey.export({ format: 'jwk' }).x).toBe(createPublicKey(EPHEMERAL).export({ format: 'jwk' }).x);

    // The content key, from the Concat KDF: opening the vector's GCM parts with it alone gives the plaintext.
    const direct = VECTOR.jwe.split('.');
    const decipher = createDecipheriv('aes-256-gcm', Buffer.from(VECTOR.contentKeyHex, 'hex'), Buffer.from(direct[2], 'base64url'));
    decipher.setAAD(Buffer.from(direct[0], 'ascii'));
    decipher.setAuthTag(Buffer.from(direct[4], 'base64url'));
    expect(Buffer.concat([decipher.update(Buffer.from(direct[3], 'base64url')), decipher.final()]).toString()).toBe(VECTOR.plaintext);
    expect((await compactDecrypt(VECTOR.jwe, CALLEE)).plaintext).toEqual(new Uint8Array(Buffer.from(VECTOR.plaintext)));
  });

  it('jose opens what we seal, header members included; the ephemeral key we return opens it too', async () => {
    const { privateKey, publicKey } = generateKeyPairSync('x25519');
    const sealed = encryptEcdhEs(Buffer.from('{"sku":"P-1"}'), publicKey, { kid: 'callee-1', nonce: 'n-1', status: 200 });
    const { plaintext, protectedHeader } = await compactDecrypt(sealed.jwe, privateKey);
    expect(Buffer.from(plaintext).toString()).toBe('{"sku":"P-1"}');
    expect(protectedHeader).toMatchObject({
      alg: 'ECDH-ES',
      enc: 'A256GCM',
      kid: 'callee-1',
      cty: 'application/json',
      nonce: 'n-1',
      status: 200,
    });
    // A fresh ephemeral key per message.
    const again = encryptEcdhEs(Buffer.from('{"sku":"P-1"}'), publicKey, { kid: 'callee-1' });
    expect(decryptEcdhEs(again.jwe, () => privateKey).header.epk.x).not.toBe(decryptEcdhEs(sealed.jwe, () => privateKey).header.epk.x);
  });

  it('we open what jose seals to our key', async () => {
    const { privateKey, publicKey } = generateKeyPairSync('x25519');
    const jwe = await new CompactEncrypt(Buffer.from('{"ok":true}'))
      .setProtectedHeader({ alg: 'ECDH-ES', enc: 'A256GCM', kid: 'callee-1' })
      .encrypt(publicKey);
    expect(decryptEcdhEs(jwe, (kid) => (kid === 'callee-1' ? privateKey : undefined)).plaintext.toString()).toBe('{"ok":true}');
  });

  it('refuses, each with its reason: another key, tampering, unknown kid, apu/apv, a bad epk, a low-order epk, another alg', async () => {
    const { privateKey, publicKey } = generateKeyPairSync('x25519');
    const other = generateKeyPairSync('x25519').privateKey;
    const { jwe } = encryptEcdhEs(Buffer.from('{}'), publicKey, { kid: 'k' });
    expect(reasonOf(() => decryptEcdhEs(jwe, () => other))).toBe('decryption_failed');
    expect(reasonOf(() => decryptEcdhEs(jwe, () => undefined))).toBe('key_unknown');
    const parts = jwe.split('.');
    const tag = Buffer.from(parts[4], 'base64url');
    tag[0] ^= 1;
    expect(reasonOf(() => decryptEcdhEs([...parts.slice(0, 4), tag.toString('base64url')].join('.'), () => privateKey))).toBe(
      'decryption_failed',
    );
    const withHeader = (header: Record<string, unknown>) =>
      [Buffer.from(JSON.stringify(header)).toString('base64url'), ...parts.slice(1)].join('.');
    const header = JSON.parse(Buffer.from(parts[0], 'base64url').toString()) as Record<string, unknown>;
    expect(reasonOf(() => decryptEcdhEs(withHeader({ ...header, apu: 'YQ' }), () => privateKey))).toBe('jwe_unsupported');
    expect(reasonOf(() => decryptEcdhEs(withHeader({ ...header, epk: 'x' }), () => privateKey))).toBe('jwe_malformed');
    expect(
      reasonOf(() => decryptEcdhEs(withHeader({ ...header, epk: { kty: 'EC', crv: 'P-256', x: 'a', y: 'b' } }), () => privateKey)),
    ).toBe('jwe_unsupported');
    expect(reasonOf(() => decryptEcdhEs(withHeader({ ...header, epk: { kty: 'OKP', crv: 'X25519', x: 'short' } }), () => privateKey))).toBe(
      'jwe_malformed',
    );
    // The all-zero point: the agreement would be all zeros, a key anyone knows.
    const lowOrder = { kty: 'OKP', crv: 'X25519', x: Buffer.alloc(32).toString('base64url') };
    expect(reasonOf(() => decryptEcdhEs(withHeader({ ...header, epk: lowOrder }), () => privateKey))).toBe('decryption_failed');
    expect(reasonOf(() => decryptEcdhEs(withHeader({ ...header, alg: 'dir' }), () => privateKey))).toBe('jwe_unsupported');
    expect(reasonOf(() => decryptEcdhEs(withHeader({ ...header, alg: 'ECDH-ES+A256KW' }), () => privateKey))).toBe('jwe_unsupported');
  });

  it('refuses to seal to a key that is not X25519, or with a member that would change the suite', () => {
    const ed = generateKeyPairSync('ed25519').publicKey;
    expect(() => encryptEcdhEs(Buffer.from('{}'), ed, { kid: 'k' })).toThrow(TypeError);
    const { publicKey } = generateKeyPairSync('x25519');
    expect(() => encryptEcdhEs(Buffer.from('{}'), publicKey, { kid: 'k', apu: 'x' })).toThrow(/"apu" cannot be set/);
  });
});
