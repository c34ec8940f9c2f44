#!/usr/bin/env python3
"""An Ed25519-signed request, and the callee's signed answer verified, in Python (PROTOCOL.md §8 and §9).

Builds on signed_request.py (next to this file) for the signature base. Ed25519 is not in Python's
standard library: this needs the `cryptography` package (Debian/Ubuntu: apt-get install
python3-cryptography, then run with the system /usr/bin/python3; elsewhere: pip install cryptography).

    SERVICE_AUTH_KEY_ID=order-ed-2026-12 SERVICE_AUTH_API_KEY=sk_... SERVICE_AUTH_PRIVATE_KEY=MC4CAQAw... \
    SERVICE_AUTH_AUDIENCE=inventory-service SERVICE_AUTH_ANSWER_PUBLIC_KEYS=inventory-answers-1:ed25519:MCowBQYDK2Vw... \
    /usr/bin/python3 ed25519_request.py POST http://127.0.0.1:8082/api/inventory '{"productId":"P123","quantity":2}'

SERVICE_AUTH_PRIVATE_KEY is the caller's Ed25519 private key (PKCS#8 DER, base64 or base64url), what
`keygen --alg ed25519` prints for the caller. SERVICE_AUTH_ANSWER_PUBLIC_KEYS lists the callee's
answer public keys as `keyId:ed25519:<SubjectPublicKeyInfo DER, base64 or base64url>`, comma-separated:
the value of the caller's SERVICE_AUTH_UPSTREAM_<ID>_ANSWER_KEYS.

Optional: CONTENT_TYPE (default application/json), IDEMPOTENCY_KEY.
Prints `HTTP <status>`, then the answer body. A successful (2xx) answer is printed only when its
signature verifies (PROTOCOL.md §9): made by one of the callee's answer keys, for this request, this
status, this Content-Type and these exact bytes; otherwise `answer refused: <why>`. Refusals (4xx,
5xx) are not signed and are printed as received. Exits 0 on a 2xx answer whose signature verifies, 1
otherwise.
"""
import base64
import hashlib
import os
import re
import sys
import urllib.parse

try:
    from cryptography.exceptions import InvalidSignature
    from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey, Ed25519PublicKey
    from cryptography.hazmat.primitives.serialization import load_der_private_key, load_der_public_key
except ImportError:
    sys.exit("ed25519_request.py needs the Python package 'cryptography' (Debian: apt-get install python3-cryptography)")

from signed_request import b64, decode_secret, send, signature_base

ID = r"[A-Za-z0-9._~-]{1,128}"


def private_key(text: str) -> Ed25519PrivateKey:
    key = load_der_private_key(decode_secret(text), password=None)
    if not isinstance(key, Ed25519PrivateKey):
        raise ValueError("SERVICE_AUTH_PRIVATE_KEY is not an Ed25519 private key")
    return key


def answer_public_keys(text: str) -> dict:
    """`keyId:ed25519:<SPKI>,...` → {key id: Ed25519PublicKey}."""
    keys = {}
    for entry in filter(None, (e.strip() for e in text.split(","))):
        key_id, alg, spki = entry.split(":", 2)
        if not re.fullmatch(ID, key_id) or alg != "ed25519":
            raise ValueError("not an ed25519 answer key entry: %r" % entry.split(":")[0])
        key = load_der_public_key(decode_secret(spki))
        if not isinstance(key, Ed25519PublicKey):
            raise ValueError("answer key %s is not an Ed25519 public key" % key_id)
        keys[key_id] = key
    return keys


def sign(method: str, url: str, headers: dict, body: bytes, key_id: str, api_key: str, key: Ed25519PrivateKey, audience: str) -> bytes:
    """PROTOCOL.md §8: §2's request, `alg="ed25519"`, an Ed25519 signature of the base. Adds X-API-Key,
    Content-Digest, Signature-Input and Signature to `headers`; returns the signature, which the
    answer's signature covers."""
    params, base, _ = signature_base(method, url, headers, body, key_id, api_key, audience, "ed25519")
    signature = key.sign(base)  # 64 bytes; Ed25519 is deterministic
    headers["signature-input"] = "sig1=" + params
    headers["signature"] = "sig1=:%s:" % b64(signature)
    return signature


def verify_answer(status: int, answer_headers, body: bytes, method: str, url: str, request_signature: bytes, keys: dict) -> None:
    """PROTOCOL.md §9. Raises ValueError unless the answer is signed by one of `keys`, for this
    request (its method, path, query and signature), its status, its Content-Type and its bytes.

    The callee writes its Signature-Input in one form: this checks the whole field against that form
    (a full match, nothing else accepted) instead of parsing RFC 8941 in general."""
    content_type = answer_headers.get("content-type")
    covered = '"@status"%s "content-digest" "@method";req "@path";req "@query";req "signature";req;key="sig1"' % (
        ' "content-type"' if content_type is not None else "")
    signature_input = answer_headers.get("signature-input")
    signature_field = answer_headers.get("signature")
    if not signature_input or not signature_field:
        raise ValueError("the answer is not signed")
    params_match = re.fullmatch(r'sig1=(\(%s\);created=\d{1,15};keyid="(%s)";alg="ed25519")' % (re.escape(covered), ID), signature_input.strip())
    if not params_match:
        raise ValueError("the answer's signature does not cover the answer and this request as required")
    params, key_id = params_match.groups()
    signature_match = re.fullmatch(r"sig1=:([A-Za-z0-9+/]{86}==):", signature_field.strip())
    if not signature_match:
        raise ValueError("the answer's Signature field is malformed")
    if key_id not in keys:
        raise ValueError("the answer is signed with key %s, which is not one of the callee's answer keys" % key_id)
    content_digest = "sha-256=:%s:" % b64(hashlib.sha256(body).digest())
    if (answer_headers.get("content-digest") or "").strip() != content_digest:
        raise ValueError("the answer's Content-Digest does not match its bytes")

    target = urllib.parse.urlsplit(url)
    lines = ['"@status": %d' % status]
    if content_type is not None:
        lines.append('"content-type": %s' % content_type.strip())
    lines += [
        '"content-digest": %s' % content_digest,
        '"@method";req: %s' % method.upper(),
        '"@path";req: %s' % (target.path or "/"),
        '"@query";req: ?%s' % target.query,
        '"signature";req;key="sig1": :%s:' % b64(request_signature),
        '"@signature-params": %s' % params,
    ]
    try:
        keys[key_id].verify(base64.b64decode(signature_match.group(1)), "\n".join(lines).encode("utf-8"))
    except InvalidSignature:
        raise ValueError("the answer's signature does not verify: its status, type or bytes changed, or it answers another request")


def main(argv):
    if len(argv) not in (3, 4):
        sys.exit("usage: ed25519_request.py METHOD URL [BODY]")
    names = ("SERVICE_AUTH_KEY_ID", "SERVICE_AUTH_API_KEY", "SERVICE_AUTH_PRIVATE_KEY", "SERVICE_AUTH_AUDIENCE", "SERVICE_AUTH_ANSWER_PUBLIC_KEYS")
    missing = [name for name in names if not os.environ.get(name)]
    if missing:
        sys.exit("missing environment variables: " + ", ".join(missing))
    key = private_key(os.environ["SERVICE_AUTH_PRIVATE_KEY"])
    keys = answer_public_keys(os.environ["SERVICE_AUTH_ANSWER_PUBLIC_KEYS"])

    method, url = argv[1].upper(), argv[2]
    body = argv[3].encode("utf-8") if len(argv) == 4 else b""  # serialised once: these bytes are hashed and sent
    headers = {}
    if body:
        headers["content-type"] = os.environ.get("CONTENT_TYPE", "application/json")
    if os.environ.get("IDEMPOTENCY_KEY"):
        headers["idempotency-key"] = os.environ["IDEMPOTENCY_KEY"]
    request_signature = sign(method, url, headers, body, os.environ["SERVICE_AUTH_KEY_ID"], os.environ["SERVICE_AUTH_API_KEY"], key,
                             os.environ["SERVICE_AUTH_AUDIENCE"])

    status, answer_headers, answer = send(method, url, headers, body)
    print("HTTP %d" % status)
    if not 200 <= status < 300:
        print(answer.decode("utf-8", "replace"))  # a refusal: plaintext JSON with a reason, not signed
        return 1
    try:
        verify_answer(status, answer_headers, answer, method, url, request_signature, keys)
    except ValueError as refused:
        print("answer refused: %s" % refused)
        return 1
    print(answer.decode("utf-8", "replace"))
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
