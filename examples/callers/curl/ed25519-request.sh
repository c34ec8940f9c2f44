#!/usr/bin/env bash
# An Ed25519-signed request with curl and the openssl command line (PROTOCOL.md §8). Needs bash, curl
# and OpenSSL 3.0 or later (`openssl pkeyutl -rawin` signs Ed25519); nothing else.
#
#   SERVICE_AUTH_KEY_ID=order-ed-2026-12 SERVICE_AUTH_API_KEY=sk_... SERVICE_AUTH_PRIVATE_KEY=MC4CAQAw... \
#   SERVICE_AUTH_AUDIENCE=inventory-service \
#   ./ed25519-request.sh POST http://127.0.0.1:8082/api/inventory '{"productId":"P123","quantity":2}'
#
# SERVICE_AUTH_PRIVATE_KEY is the caller's Ed25519 private key, PKCS#8 DER in base64 or base64url (what
# `keygen --alg ed25519` prints for the caller). It goes to openssl in a file readable by this user only,
# never on a command line.
# Optional: CONTENT_TYPE (default application/json), IDEMPOTENCY_KEY.
# Prints the answer as `curl --include` does: status line, headers, blank line, body. The answer's
# signature (PROTOCOL.md §9) is not checked here, so nothing proves the answer came from the callee;
# ed25519_request.py (Python) shows how. Bodies go in plaintext: do not use this for encrypted
# exchanges (§10), whose sealed answers prove their sender only by that signature.
set -euo pipefail

method=${1:?usage: ed25519-request.sh METHOD URL [BODY]}
url=${2:?usage: ed25519-request.sh METHOD URL [BODY]}
key_id=${SERVICE_AUTH_KEY_ID:?SERVICE_AUTH_KEY_ID is required}
api_key=${SERVICE_AUTH_API_KEY:?SERVICE_AUTH_API_KEY is required}
private_key=${SERVICE_AUTH_PRIVATE_KEY:?SERVICE_AUTH_PRIVATE_KEY is required (PKCS#8 DER, base64 or base64url)}
audience=${SERVICE_AUTH_AUDIENCE:?SERVICE_AUTH_AUDIENCE is required (the callee service id)}
# Key ids and service ids never need escaping inside a structured-field string.
for id in "$key_id" "$audience"; do
  [[ $id =~ ^[A-Za-z0-9._~-]{1,128}$ ]] || { echo "not a valid id: $id" >&2; exit 2; }
done

umask 077
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT

b64=$(printf '%s' "$private_key" | tr '_-' '/+')
while (( ${#b64} % 4 )); do b64+='='; done
printf '%s' "$b64" | openssl base64 -d -A >"$work/key.der"

# @path and @query exactly as sent (curl --path-as-is sends them unchanged).
after_scheme=${url#*://}
target=${after_scheme#"${after_scheme%%[/?#]*}"} # from the first / ? or # after the authority
target=${target%%#*}
path=${target%%\?*}
path=${path:-/}
query='?'
[[ $target == *\?* ]] && query="?${target#*\?}"

headers=(-H "X-API-Key: $api_key")
components='"@method" "@path" "@query" "x-api-key"'
base="\"@method\": $method
\"@path\": $path
\"@query\": $query
\"x-api-key\": $api_key"

body_args=()
if [[ $# -ge 3 ]]; then
  # The bytes hashed are the bytes sent: the body goes to curl from this file, unchanged.
  printf '%s' "$3" >"$work/body"
  content_type=${CONTENT_TYPE:-application/json}
  digest="sha-256=:$(openssl dgst -sha256 -binary "$work/body" | openssl base64 -A):"
  headers+=(-H "Content-Type: $content_type" -H "Content-Digest: $digest")
  components+=' "content-type" "content-digest"'
  base+="
\"content-type\": $content_type
\"content-digest\": $digest"
  body_args=(--data-binary "@$work/body")
fi
if [[ -n ${IDEMPOTENCY_KEY:-} ]]; then
  headers+=(-H "Idempotency-Key: $IDEMPOTENCY_KEY")
  components+=' "idempotency-key"'
  base+="
\"idempotency-key\": $IDEMPOTENCY_KEY"
fi

created=$(date +%s)
nonce=$(openssl rand -base64 16 | tr '+/' '-_' | tr -d '=\n') # 128 random bits, base64url: 22 characters
params="($components);created=$created;nonce=\"$nonce\";keyid=\"$key_id\";alg=\"ed25519\";tag=\"$audience\""
base+="
\"@signature-params\": $params"

# The signature base has no trailing newline: printf '%s' adds none. Ed25519 signs the message itself
# (no digest first): pkeyutl needs -rawin, and reads it from a file.
printf '%s' "$base" >"$work/base"
signature=$(openssl pkeyutl -sign -inkey "$work/key.der" -keyform DER -rawin -in "$work/base" | openssl base64 -A)
headers+=(-H "Signature-Input: sig1=$params" -H "Signature: sig1=:$signature:")

curl --silent --show-error --include --globoff --path-as-is -X "$method" "${headers[@]}" ${body_args[@]+"${body_args[@]}"} "$url"
