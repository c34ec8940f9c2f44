import { formatKeyList, parseKeyList, type KeyListEntry } from '../keys/env-key-provider.js';
import { envVariableNames } from '../keys/env-variable-names.js';
import { generateCredential, type GeneratedCredential } from '../keys/generate-credential.js';
import { KeyConfigurationError } from '../errors/key-configuration.error.js';
import { KeyRing } from '../keys/key-ring.js';
import { placeholderUrl } from './keygen.js';
import { createPublicKey } from 'node:crypto';
import { generateEd25519KeyText, publicKeyText, readOkpKeyText } from '../keys/okp-key-text.js';
import { loadSide } from './load-side.js';
import { checkServicePair, type ServicePair } from './service-pair.js';

export interface RotationRequest extends ServicePair {
  /** The pair's key list as it is now (`keyId:apiKey:secret`): one key. */
  current: string;
  /** Where `current` came from (`--current`, a variable name), for messages. */
  currentSource: string;
  keyId?: string;
  prefix?: string;
  now?: Date;
}

/** One step of the rollout: set `variable` to `value` on `service`, then restart its replicas. */
export interface RotationStep {
  readonly service: string;
  readonly side: 'caller' | 'callee';
  readonly variable: string;
  readonly value: string;
  /** What the step achieves, in a few words. */
  readonly effect: string;
}

export interface RotationPlan extends ServicePair {
  readonly previousKeyId: string;
  readonly key: GeneratedCredential;
  /** Callee accepts both keys; caller signs with the new one; callee retires the old one. */
  readonly steps: readonly RotationStep[];
}

/**
 * The next credential of a pair and the rollout that replaces the current one without a refused
 * request: every step's value is accepted alongside the other service's state before and after it
 * (PROTOCOL.md, rotation; docs/keys-and-rotation.md).
 */
export function planRotation(request: RotationRequest): RotationPlan {
  const { callerId, calleeId, prefix } = request;
  checkServicePair(request);
  const entries = parseKeyList(request.current, request.currentSource);
  if (entries.length === 0) throw new KeyConfigurationError(`${request.currentSource} holds no key`);
  if (entries.length > 1) {
    // With two keys the current one is ambiguous: first on the caller, but the callee lists the old one first during step 1.
    throw new KeyConfigurationError(
      `${request.currentSource} holds ${entries.length} keys, so a rotation is already under way: finish it ` +
        '(the callee keeps only the new key), or pass --current with the one key the pair uses now',
    );
  }
  const [{ id, apiKey, secret, algorithm }] = entries;
  // The current key as a service would load it: a message about it names where it came from. An
  // hmac-sha256 key is checked as the callee holds it; an ed25519 one is checked in ed25519Rotation.
  if (algorithm !== 'ed25519') KeyRing.from({ callers: [{ id: callerId, keys: entries }] }, calleeId);
  // parseKeyList reads text, so the secret is text: it is written back exactly as given.
  const previous: KeyListEntry = { id, apiKey, secret: String(secret), ...(algorithm ? { algorithm } : {}) };

  let key = generateCredential(callerId, { keyId: request.keyId, now: request.now });
  while (key.id === previous.id && request.keyId === undefined) key = generateCredential(callerId, { now: request.now });
  if (key.id === previous.id) throw new KeyConfigurationError("--key-id: the new key needs an id other than the current one's");

  const names = envVariableNames(prefix);
  if (algorithm === 'ed25519') return ed25519Rotation(request, previous, key, names);
  const steps: RotationStep[] = [
    {
      service: calleeId,
      side: 'callee',
      variable: names.callerKeys(callerId),
      value: formatKeyList([previous, key]),
      effect: 'accepts both keys',
    },
    {
      service: callerId,
      side: 'caller',
      variable: names.upstreamKeys(calleeId),
      value: formatKeyList([key, previous]),
      effect: 'signs with the new key (the old one stays second, for answers still in flight)',
    },
    { service: calleeId, side: 'callee', variable: names.callerKeys(callerId), value: formatKeyList([key]), effect: 'retires the old key' },
  ];
  for (const step of steps) {
    const env =
      step.side === 'callee'
        ? { [names.callers]: callerId, [step.variable]: step.value }
        : { [names.upstreams]: calleeId, [names.upstreamUrl(calleeId)]: placeholderUrl(calleeId), [step.variable]: step.value };
    loadSide(env, step.service, prefix);
  }
  return { callerId, calleeId, previousKeyId: previous.id, key, steps };
}

/**
 * An ed25519 pair's rotation: the callee lists public keys, the caller its private key. The caller
 * needs no old key afterwards (its answers are signed with the callee's own answer key), so it keeps
 * only the new one. The current key may come from either side: from the caller's private key the
 * public half is derived.
 */
function ed25519Rotation(
  request: RotationRequest,
  previous: KeyListEntry,
  generated: GeneratedCredential,
  names: ReturnType<typeof envVariableNames>,
): RotationPlan {
  const { callerId, calleeId, prefix } = request;
  const read = readOkpKeyText(previous.secret, 'ed25519');
  if (!read) throw new KeyConfigurationError(`${request.currentSource}: the current key is not an Ed25519 key`);
  const previousPublic: KeyListEntry = {
    ...previous,
    secret: publicKeyText(read.kind === 'private' ? createPublicKey(read.key) : read.key),
  };
  const pair = generateEd25519KeyText();
  const key = { ...generated, secret: pair.privateKey, publicKey: pair.publicKey };
  const newPublic: KeyListEntry = { id: key.id, apiKey: key.apiKey, algorithm: 'ed25519', secret: pair.publicKey };
  const newPrivate: KeyListEntry = { id: key.id, apiKey: key.apiKey, algorithm: 'ed25519', secret: pair.privateKey };
  const steps: RotationStep[] = [
    {
      service: calleeId,
      side: 'callee',
      variable: names.callerKeys(callerId),
      value: formatKeyList([previousPublic, newPublic]),
      effect: 'accepts both public keys',
    },
    {
      service: callerId,
      side: 'caller',
      variable: names.upstreamKeys(calleeId),
      value: formatKeyList([newPrivate]),
      effect: 'signs with the new key',
    },
    {
      service: calleeId,
      side: 'callee',
      variable: names.callerKeys(callerId),
      value: formatKeyList([newPublic]),
      effect: 'retires the old key',
    },
  ];
  // Each step checked as the service would load it; the caller's answer keys are a placeholder of the right shape.
  const placeholderAnswerKey = generateEd25519KeyText();
  for (const step of steps) {
    const env =
      step.side === 'callee'
        ? { [names.callers]: callerId, [step.variable]: step.value, [names.answerKeys]: `check:ed25519:${placeholderAnswerKey.privateKey}` }
        : {
            [names.upstreams]: calleeId,
            [names.upstreamUrl(calleeId)]: placeholderUrl(calleeId),
            [step.variable]: step.value,
            [names.upstreamAnswerKeys(calleeId)]: `check:ed25519:${placeholderAnswerKey.publicKey}`,
          };
    loadSide(env, step.service, prefix);
  }
  return { callerId, calleeId, previousKeyId: previous.id, key, steps };
}
