import type { ClientProxy } from '@nestjs/microservices';
import { defer, map, type Observable } from 'rxjs';
import { UpstreamNotConfiguredError } from '../../client/upstream-not-configured.error.js';
import type { ResolvedHmacKey, ResolvedKey } from '../../keys/key-ring.js';
import { signMessage } from '../../messages/message-signer.js';
import { openSignedAnswer } from '../../messages/signed-answer.js';
import type { ServiceAuthKeys } from '../service-auth-keys.service.js';

/**
 * A ClientProxy's `send()` and `emit()`, signed for one upstream: every message goes out as a signed
 * envelope (a fresh nonce each time, so a resubscribed `send()` is signed again), and every answer
 * to a `send()` must be signed by the upstream and bound to that request's nonce, or the Observable
 * errors with MessageAnswerRefusedError. With `encrypt`, payloads go out encrypted and an answer
 * that is not sealed is refused (`answer_not_sealed`). Refusals by the upstream arrive as errors holding
 * `{ status, reason, message }`, as from any RpcException.
 */
export class SignedClientProxy {
  constructor(
    /** The transport's own client, which sends the envelopes. */
    readonly inner: ClientProxy,
    private readonly keys: ServiceAuthKeys,
    /** The callee's service id: the audience of every signature. */
    readonly upstream: string,
    /** This service's id, as the upstream knows it: the audience of the answers. */
    private readonly serviceId: string,
    /** Encrypt every message's payload and insist on sealed answers (the module's `encrypt` for this upstream). */
    readonly encrypt = false,
  ) {}

  connect(): Promise<unknown> {
    return this.inner.connect();
  }

  close(): unknown {
    return this.inner.close();
  }

  /** Nest calls it when the application stops: the transport's connection is closed with it. */
  async onApplicationShutdown(): Promise<void> {
    await this.inner.close();
  }

  send<TResult = unknown, TInput = unknown>(pattern: unknown, data: TInput): Observable<TResult> {
    return defer(() => {
      const { envelope, nonce } = signMessage({ kind: 'SEND', pattern, data, encrypt: this.encrypt }, this.signingKey());
      const binding = { nonce, callerId: this.serviceId, upstream: this.upstream, sealed: this.encrypt };
      return this.inner
        .send<unknown>(pattern, envelope)
        .pipe(
          map(
            (answer) =>
              openSignedAnswer(answer, binding, (keyId) => hmacKeyOrNone(this.keys.ring.findUpstreamKey(this.upstream, keyId))) as TResult,
          ),
        );
    });
  }

  /** Signed at once: an emit is sent when it is called, as with ClientProxy. */
  emit<TResult = unknown, TInput = unknown>(pattern: unknown, data: TInput): Observable<TResult> {
    const { envelope } = signMessage({ kind: 'EMIT', pattern, data, encrypt: this.encrypt }, this.signingKey());
    return this.inner.emit<TResult>(pattern, envelope);
  }

  /** The upstream's current key (the first), read at each message so a key reload takes effect at once. */
  private signingKey(): ResolvedKey {
    const key = this.keys.ring.upstream(this.upstream)?.keys[0];
    if (!key) throw new UpstreamNotConfiguredError(this.upstream, this.keys.ring.upstreamIds);
    if (key.algorithm !== 'hmac-sha256') {
      throw new TypeError(
        `Signed messages to ${this.upstream} need an hmac-sha256 credential; its current key ${key.id} is ${key.algorithm}`,
      );
    }
    return key;
  }
}

/** Answers to messages are signed with the pair's shared key: an ed25519 key opens none. */
function hmacKeyOrNone(key: ResolvedKey | undefined): ResolvedHmacKey | undefined {
  return key?.algorithm === 'hmac-sha256' ? key : undefined;
}
