#!/usr/bin/env python3
"""An encrypted body and its encrypted answer, in Python (PROTOCOL.md §5 and §5.1).

Builds on signed_request.py (next to this file) for key derivation and signing. AES-GCM is not in
Python's standard library: this needs the `cryptography` package (Debian/Ubuntu: apt-get install
python3-cryptography, then run with the system /usr/bin/python3; elsewhere: pip install cryptography).

    SERVICE_AUTH_KEY_ID=order-2026-11 SERVICE_AUTH_API_KEY=sk_... SERVICE_AUTH_SECRET=... \
    SERVICE_AUTH_AUDIENCE=inventory-service \
    /usr/bin/python3 encrypted_request.py http://127.0.0.1:8082/api/inventory '{"productId":"P123","quantity":2}'

Optional: IDEMPOTENCY_KEY. Prints `HTTP <status>`, then the answer: decrypted when it is encrypted
(a success), as received otherwise (refusals are never encrypted). Exits 0 on a 2xx answer that
decrypts and is bound to this request and its status, 1 otherwise.
"""
import base64
import json
import os
import secrets
import sys

try:
    from cryptography.hazmat.primitives.ciphers.aead import AESGCM
except ImportError:
    sys.exit("encrypted_request.py needs the Python package 'cryptography' (Debian: apt-get install python3-cryptography)")

from signed_request import credential_from_env, derive_key, send, sign


def b64url(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode("ascii")


def b64url_decode(text: str) -> bytes:
    return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))


def encrypt(plaintext: bytes, key: bytes, key_id: str) -> bytes:
    """JWE compact serialisation, alg "dir", enc "A256GCM" (RFC 7516 §7.1)."""
    protected = {"alg": "dir", "enc": "A256GCM", "kid": key_id, "cty": "application/json"}
    header = b64url(json.dumps(protected, separators=(",", ":")).encode("utf-8"))
    iv = secrets.token_bytes(12)  # fresh for every message
    sealed = AESGCM(key).encrypt(iv, plaintext, header.encode("ascii"))  # AAD: the encoded header, as ASCII
    ciphertext, tag = sealed[:-16], sealed[-16:]
    return ".".join([header, "", b64url(iv), b64url(ciphertext), b64url(tag)]).encode("ascii")


def decrypt_answer(jwe: str, key: bytes, key_id: str, nonce: str, status: int) -> bytes:
    """Opens an encrypted answer and checks that it was made for the request signed with `nonce`,
    and for the HTTP `status` it arrived with."""
    parts = jwe.strip().split(".")
    if len(parts) != 5 or parts[1] != "":
        raise ValueError("the answer is not a compact JWE with alg dir")
    header = json.loads(b64url_decode(parts[0]))
    if header.get("alg") != "dir" or header.get("enc") != "A256GCM" or header.get("kid") != key_id:
        raise ValueError("unexpected JWE header: %r" % header)
    # Without this check a captured answer to another request could be passed off as this one.
    if header.get("nonce") != nonce:
        raise ValueError("the answer was not made for this request (nonce %r, expected %r)" % (header.get("nonce"), nonce))
    # Without this one a sealed answer could be moved to another status (a 202 "accepted" sent as 200).
    if type(header.get("status")) is not int or header["status"] != status:
        raise ValueError("the answer was not made for this status (status %r, received %d)" % (header.get("status"), status))
    iv, ciphertext, tag = (b64url_decode(p) for p in parts[2:])
    return AESGCM(key).decrypt(iv, ciphertext + tag, parts[0].encode("ascii"))


def main(argv):
    if len(argv) != 3:
        sys.exit("usage: encrypted_request.py URL JSON_BODY")
    url, plaintext = argv[1], argv[2].encode("utf-8")
    credential = credential_from_env()
    # Encrypt, then sign: Content-Digest and the signature cover the ciphertext bytes.
    body = encrypt(plaintext, derive_key(credential["secret"], "a256gcm"), credential["key_id"])
    headers = {"content-type": "application/jose"}
    if os.environ.get("IDEMPOTENCY_KEY"):
        headers["idempotency-key"] = os.environ["IDEMPOTENCY_KEY"]
    nonce = sign("POST", url, headers, body, **credential)

    status, answer_headers, answer = send("POST", url, headers, body)
    print("HTTP %d" % status)
    media_type = (answer_headers.get("content-type") or "").split(";")[0].strip().lower()
    if media_type != "application/jose":
        if 200 <= status < 300:
            # Even an empty success is sealed (PROTOCOL.md §5.1): a plaintext one could be anyone's.
            print("answer refused: a successful answer to an encrypted request must be encrypted")
        else:
            print(answer.decode("utf-8", "replace"))  # a refusal: plaintext JSON with a reason
        return 1
    key = derive_key(credential["secret"], "a256gcm")
    try:
        print(decrypt_answer(answer.decode("ascii"), key, credential["key_id"], nonce, status).decode("utf-8"))
    except Exception as refused:  # InvalidTag, a bad header or a nonce of another request
        print("answer refused: %s" % (refused or type(refused).__name__))
        return 1
    return 0 if 200 <= status < 300 else 1


if __name__ == "__main__":
    sys.exit(main(sys.argv))
