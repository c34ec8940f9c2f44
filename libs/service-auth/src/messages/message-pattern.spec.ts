import { describe, expect, it } from '@jest/globals';
import { ServiceAuthError } from '../errors/service-auth.error.js';
import { messageTarget } from './message-pattern.js';

describe('messageTarget', () => {
  it('percent-encodes a route as one segment', () => {
    expect(messageTarget('stock/read é')).toBe('/stock%2Fread%20%C3%A9');
  });

  it('refuses a route with a lone surrogate with context_unsupported, not a URIError', () => {
    for (const route of ['stock.\uD800', '\uDC00read']) {
      let thrown: unknown;
      try {
        messageTarget(route);
      } catch (error) {
        thrown = error;
      }
      expect(thrown).toBeInstanceOf(ServiceAuthError);
      expect(thrown).toMatchObject({ reason: 'context_unsupported' });
    }
  });
});
