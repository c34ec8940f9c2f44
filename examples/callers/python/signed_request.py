#!/usr/bin/env python3
"""A signed request in Python, standard library only (PROTOCOL.md §1.1 and §2). Python >= 3.8.

    SERVICE_AUTH_KEY_ID=order-2026-11 SERVICE_AUTH_API_KEY=sk_... SERVICE_AUTH_SECRET=... \
    SERVICE_AUTH_AUDIENCE=inventory-service \
    python3 signed_request.py POST http://127.0.0.1:8082/api/inventory '{"productId":"P123","quantity":2}'

Optional: CONTENT_TYPE (default application/json), IDEMPOTENCY_KEY.
Prints `HTTP <status>`, then the answer body; exits 0 on a 2xx answer, 1 otherwise.
"""
import base64
import hashlib
import hmac
import os
import re
import secrets
import sys
import time
import urllib.error
import urllib.parse
import urllib.request

ID = re.compile(r"[A-Za-z0-9._~-]{1,128}")


def hkdf_sha256(secret: bytes, info: bytes, length: int = 32) -> bytes:
    """RFC 5869 with an empty salt (HMAC pads it to 32 zero bytes)."""
    prk = hmac.new(b"\0" * 32, secret, hashlib.sha256).digest()  # extract
    okm, block, counter = b"", b"", 1
    while len(okm) < length:  # expand
        block = hmac.new(prk, block + info + bytes([counter]), hashlib.sha256).digest()
        okm, counter = okm + block, counter + 1
    return okm[:length]


def decode_secret(text: str) -> bytes:
    """The secret is exchanged as base64 or base64url, padded or not."""
    text = text.strip().replace("+", "-").replace("/", "_").rstrip("=")
    return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))


def derive_key(secret: str, purpose: str) -> bytes:
    """purpose: "hmac-sha256" (signing) or "a256gcm" (encrypted bodies)."""
    return hkdf_sha256(decode_secret(secret), b"nest-service-auth/v1 " + purpose.encode("ascii"))


def b64(data: bytes) -> str:
    return base64.b64encode(data).decode("ascii")


def signature_base(method: str, url: str, headers: dict, body: bytes, key_id: str, api_key: str, audience: str, alg: str):
    """Adds X-API-Key and Content-Digest to `headers` (lowercase names); returns the signature
    parameters, the signature base (bytes) and the nonce.

    `headers` already holds content-type (with a body) and idempotency-key (if sent).
    """
    for value in (key_id, audience):
        if not ID.fullmatch(value):  # ids never need escaping inside a structured-field string
            raise ValueError("not a valid id: %r" % value)
    target = urllib.parse.urlsplit(url)
    headers["x-api-key"] = api_key
    covered = ["@method", "@path", "@query", "x-api-key"]
    if body:
        headers["content-digest"] = "sha-256=:%s:" % b64(hashlib.sha256(body).digest())
        covered += ["content-type", "content-digest"]
    covered += [name for name in ("idempotency-key", "content-encoding") if name in headers]

    created = int(time.time())
    nonce = secrets.token_urlsafe(16)  # 128 random bits, base64url: 22 characters
    params = '(%s);created=%d;nonce="%s";keyid="%s";alg="%s";tag="%s"' % (
        " ".join('"%s"' % c for c in covered), created, nonce, key_id, alg, audience)
    values = {
        "@method": method.upper(),
        "@path": target.path or "/",  # exactly as sent: urllib sends the URL's path and query unchanged
        "@query": "?" + target.query,
    }
    lines = ['"%s": %s' % (c, values[c] if c in values else headers[c].strip()) for c in covered]
    lines.append('"@signature-params": ' + params)
    return params, "\n".join(lines).encode("utf-8"), nonce  # no trailing newline


def sign(method: str, url: str, headers: dict, body: bytes, key_id: str, api_key: str, secret: str, audience: str) -> str:
    """Adds X-API-Key, Content-Digest, Signature-Input and Signature to `headers` (lowercase names).

    `headers` already holds content-type (with a body) and idempotency-key (if sent). Returns the
    nonce, which an encrypted answer must repeat (PROTOCOL.md §5.1).
    """
    params, base, nonce = signature_base(method, url, headers, body, key_id, api_key, audience, "hmac-sha256")
    signature = hmac.new(derive_key(secret, "hmac-sha256"), base, hashlib.sha256).digest()
    headers["signature-input"] = "sig1=" + params
    headers["signature"] = "sig1=:%s:" % b64(signature)
    return nonce


def send(method: str, url: str, headers: dict, body: bytes):
    """Sends the request; returns (status, headers, body bytes) for any HTTP answer, 4xx/5xx included."""
    request = urllib.request.Request(url, data=body or None, headers=headers, method=method.upper())
    try:
        with urllib.request.urlopen(request, timeout=30) as answer:
            return answer.status, answer.headers, answer.read()
    except urllib.error.HTTPError as refusal:
        return refusal.code, refusal.headers, refusal.read()


def credential_from_env():
    names = ("SERVICE_AUTH_KEY_ID", "SERVICE_AUTH_API_KEY", "SERVICE_AUTH_SECRET", "SERVICE_AUTH_AUDIENCE")
    missing = [name for name in names if not os.environ.get(name)]
    if missing:
        sys.exit("missing environment variables: " + ", ".join(missing))
    return {
        "key_id": os.environ["SERVICE_AUTH_KEY_ID"],
        "api_key": os.environ["SERVICE_AUTH_API_KEY"],
        "secret": os.environ["SERVICE_AUTH_SECRET"],
        "audience": os.environ["SERVICE_AUTH_AUDIENCE"],
    }


def main(argv):
    if len(argv) not in (3, 4):
        sys.exit("usage: signed_request.py METHOD URL [BODY]")
    method, url = argv[1], argv[2]
    body = argv[3].encode("utf-8") if len(argv) == 4 else b""  # serialised once: these bytes are hashed and sent
    headers = {}
    if body:
        headers["content-type"] = os.environ.get("CONTENT_TYPE", "application/json")
    if os.environ.get("IDEMPOTENCY_KEY"):
        headers["idempotency-key"] = os.environ["IDEMPOTENCY_KEY"]
    sign(method, url, headers, body, **credential_from_env())
    status, _, answer = send(method, url, headers, body)
    print("HTTP %d" % status)
    print(answer.decode("utf-8", "replace"))
    return 0 if 200 <= status < 300 else 1


if __name__ == "__main__":
    sys.exit(main(sys.argv))
