import { describe, expect, it } from '@jest/globals';
import { envLine, formatKeygen, formatRotation } from './format-output.js';
import type { KeygenResult } from './keygen.js';
import type { RotationPlan } from './rotation-plan.js';

describe('envLine', () => {
  it('leaves ids, key lists and URLs unquoted', () => {
    expect(envLine('A', 'k-1:sk_Ab_c-9:Zz+/0=,k-2:sk_x:y')).toBe('A=k-1:sk_Ab_c-9:Zz+/0=,k-2:sk_x:y');
    expect(envLine('U', 'https://inventory.internal:8443/api%20v2')).toBe('U=https://inventory.internal:8443/api%20v2');
  });

  it('single-quotes what a shell would read otherwise: ~ (expanded after = and :), spaces, quotes, $', () => {
    expect(envLine('A', '~k:sk_x:y')).toBe("A='~k:sk_x:y'");
    expect(envLine('A', 'k:~x')).toBe("A='k:~x'");
    expect(envLine('U', "http://h/it's $HOME")).toBe(`U='http://h/it'\\''s $HOME'`);
    expect(envLine('E', '')).toBe("E=''");
  });
});

describe('the printed formats', () => {
  const key = { id: 'order-service-2026-11-3fa9c1', apiKey: 'sk_API', secret: 'SECRET' };

  it('keygen: a header, then one block per service, the placeholder URL announced', () => {
    const result: KeygenResult = {
      algorithm: 'hmac-sha256',
      callerId: 'order-service',
      calleeId: 'inventory-service',
      key,
      url: 'http://inventory-service.invalid',
      urlIsPlaceholder: true,
      prefix: undefined,
      callerEnv: {
        SERVICE_AUTH_UPSTREAMS: 'inventory-service',
        SERVICE_AUTH_UPSTREAM_INVENTORY_SERVICE_URL: 'http://inventory-service.invalid',
        SERVICE_AUTH_UPSTREAM_INVENTORY_SERVICE_KEYS: 'order-service-2026-11-3fa9c1:sk_API:SECRET',
      },
      calleeEnv: {
        SERVICE_AUTH_CALLERS: 'order-service',
        SERVICE_AUTH_CALLER_ORDER_SERVICE_KEYS: 'order-service-2026-11-3fa9c1:sk_API:SECRET',
      },
    };
    expect(formatKeygen(result)).toBe(
      [
        '# nest-service-auth keygen: order-service -> inventory-service, key order-service-2026-11-3fa9c1',
        '# One block per service. Both hold the secret of this pair: keep them out of version control.',
        '',
        '# order-service (the caller). Already calling other services? Add inventory-service to its SERVICE_AUTH_UPSTREAMS instead.',
        'SERVICE_AUTH_UPSTREAMS=inventory-service',
        "# A placeholder: set inventory-service's base URL here (or run keygen with --url).",
        'SERVICE_AUTH_UPSTREAM_INVENTORY_SERVICE_URL=http://inventory-service.invalid',
        'SERVICE_AUTH_UPSTREAM_INVENTORY_SERVICE_KEYS=order-service-2026-11-3fa9c1:sk_API:SECRET',
        '',
        '# inventory-service (the callee). Already called by other services? Add order-service to its SERVICE_AUTH_CALLERS instead.',
        'SERVICE_AUTH_CALLERS=order-service',
        'SERVICE_AUTH_CALLER_ORDER_SERVICE_KEYS=order-service-2026-11-3fa9c1:sk_API:SECRET',
        '',
      ].join('\n'),
    );
    expect(formatKeygen({ ...result, urlIsPlaceholder: false })).not.toContain('placeholder');
  });

  it('rotate: a header, the three steps in order, and when the caller may drop the old key', () => {
    const plan: RotationPlan = {
      callerId: 'order-service',
      calleeId: 'inventory-service',
      previousKeyId: 'old',
      key: { ...key, id: 'new' },
      steps: [
        {
          service: 'inventory-service',
          side: 'callee',
          variable: 'SERVICE_AUTH_CALLER_ORDER_SERVICE_KEYS',
          value: 'old:a:b,new:c:d',
          effect: 'accepts both keys',
        },
        {
          service: 'order-service',
          side: 'caller',
          variable: 'SERVICE_AUTH_UPSTREAM_INVENTORY_SERVICE_KEYS',
          value: 'new:c:d,old:a:b',
          effect: 'signs with the new key',
        },
        {
          service: 'inventory-service',
          side: 'callee',
          variable: 'SERVICE_AUTH_CALLER_ORDER_SERVICE_KEYS',
          value: 'new:c:d',
          effect: 'retires the old key',
        },
      ],
    };
    expect(formatRotation(plan)).toBe(
      [
        '# nest-service-auth rotate: order-service -> inventory-service, key new replaces old',
        '# In this order. After each step, restart every replica of that service with the new value (a running',
        '# process does not re-read its environment), and only then go on to the next step.',
        '',
        '# Step 1 of 3: inventory-service (the callee) accepts both keys.',
        'SERVICE_AUTH_CALLER_ORDER_SERVICE_KEYS=old:a:b,new:c:d',
        '',
        '# Step 2 of 3: order-service (the caller) signs with the new key.',
        'SERVICE_AUTH_UPSTREAM_INVENTORY_SERVICE_KEYS=new:c:d,old:a:b',
        '',
        '# Step 3 of 3: inventory-service (the callee) retires the old key.',
        'SERVICE_AUTH_CALLER_ORDER_SERVICE_KEYS=new:c:d',
        '',
        '# Later, once no answer to an old request can still arrive, order-service may keep only the new key in SERVICE_AUTH_UPSTREAM_INVENTORY_SERVICE_KEYS.',
        '',
      ].join('\n'),
    );
  });
});
