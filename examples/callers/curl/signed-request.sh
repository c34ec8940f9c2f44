#!/usr/bin/env bash
# A signed request with curl and the openssl command line (PROTOCOL.md §2). Needs bash, curl and
# openssl (OpenSSL 1.1 or 3.x, or LibreSSL); nothing else.
#
#   SERVICE_AUTH_KEY_ID=order-2026-11 SERVICE_AUTH_API_KEY=sk_... SERVICE_AUTH_SECRET=... \
#   SERVICE_AUTH_AUDIENCE=inventory-service \
#   ./signed-request.sh POST http://127.0.0.1:8082/api/inventory '{"productId":"P123","quantity":2}'
#
# Optional: CONTENT_TYPE (default application/json), IDEMPOTENCY_KEY.
# Prints the answer as `curl --include` does: status line, headers, blank line, body.
#
# The derived keys are passed to openssl on its command line, where other users of this machine can
# see them (ps); run this where that does not matter, e.g. to debug a caller of your own.
set -euo pipefail

method=${1:?usage: signed-request.sh METHOD URL [BODY]}
url=${2:?usage: signed-request.sh METHOD URL [BODY]}
key_id=${SERVICE_AUTH_KEY_ID:?SERVICE_AUTH_KEY_ID is required}
api_key=${SERVICE_AUTH_API_KEY:?SERVICE_AUTH_API_KEY is required}
secret=${SERVICE_AUTH_SECRET:?SERVICE_AUTH_SECRET is required (base64 or base64url)}
audience=${SERVICE_AUTH_AUDIENCE:?SERVICE_AUTH_AUDIENCE is required (the callee service id)}
# Key ids and service ids never need escaping inside a structured-field string.
for id in "$key_id" "$audience"; do
  [[ $id =~ ^[A-Za-z0-9._~-]{1,128}$ ]] || { echo "not a valid id: $id" >&2; exit 2; }
done

work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT

hex() { od -An -vtx1 | tr -d ' \n'; }
hmac_sha256() { openssl dgst -sha256 -mac HMAC -macopt "hexkey:$1" -binary; } # key in hex; data on stdin

# §1.1: hmac_key = HKDF-SHA256(secret, salt = "", info, 32 bytes), written out as in RFC 5869:
# extract with the empty salt (HMAC pads it to 32 zero bytes), then one expand block T(1).
# On OpenSSL >= 3.0 the same in one step:
#   openssl kdf -keylen 32 -kdfopt digest:SHA256 -kdfopt hexkey:<secret hex> -kdfopt info:<info> HKDF
b64=$(printf '%s' "$secret" | tr '_-' '/+')
while (( ${#b64} % 4 )); do b64+='='; done
prk=$(printf '%s' "$b64" | openssl base64 -d -A | hmac_sha256 "$(printf '%064d' 0)" | hex)
hmac_key=$(printf 'nest-service-auth/v1 hmac-sha256\001' | hmac_sha256 "$prk" | hex)

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
params="($components);created=$created;nonce=\"$nonce\";keyid=\"$key_id\";alg=\"hmac-sha256\";tag=\"$audience\""
base+="
\"@signature-params\": $params"

# The signature base has no trailing newline: printf '%s' adds none.
signature=$(printf '%s' "$base" | hmac_sha256 "$hmac_key" | openssl base64 -A)
headers+=(-H "Signature-Input: sig1=$params" -H "Signature: sig1=:$signature:")

curl --silent --show-error --include --globoff --path-as-is -X "$method" "${headers[@]}" ${body_args[@]+"${body_args[@]}"} "$url"
