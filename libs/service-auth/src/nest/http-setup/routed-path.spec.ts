import { describe, expect, it } from '@jest/globals';
import { expressRoutedPath, fastifyRoutedPath } from './routed-path.js';

describe('routed paths: the path each router matches routes against', () => {
  it.each([
    ['/echo', '/echo'],
    ['/%65cho', '/echo'],
    ['/caf%C3%A9', '/café'],
    // reserved characters and "%" stay escaped, as find-my-way keeps them
    ['/a%2Fb', '/a%2Fb'],
    ['/a%3Fb%23c', '/a%3Fb%23c'],
    ['/100%25', '/100%25'],
    ['/%2565cho', '/%2565cho'],
    // broken UTF-8: matched as sent (Fastify refuses it before routing)
    ['/%C3', '/%C3'],
  ])('Fastify: %s → %s', (path, routed) => {
    expect(fastifyRoutedPath(path)).toBe(routed);
  });

  it('Express: the path as sent', () => {
    expect(expressRoutedPath('/%65cho')).toBe('/%65cho');
  });
});
