/**
 * `nest-service-auth/testing`: for the end-to-end tests of YOUR services. A test caller holds a
 * throwaway credential, gives the service under test the configuration that accepts it, and signs
 * (and, if asked, encrypts) requests for any HTTP client, or sends them itself:
 *
 *   const caller = testCaller('order-service', { audience: 'inventory-service' });
 *   // in the app under test: ServiceAuthModule.forRoot({ serviceId: 'inventory-service', keys: { callers: [caller.asCaller()] } })
 *   const res = await caller.fetch(app, 'POST', '/api/inventory', { productId: 'P123', quantity: 2 });
 *
 * Several callers of one service: `testCallers(order, audit).env()` (or `combineEnv(order.env(),
 * audit.env(), payments.upstreamEnv(url))`), since one `env()` names its caller alone.
 *
 * Needs nothing installed: no Nest (an application is used through its shape), no supertest (its
 * `.set(caller.sign(…))` works, and so does any other client), Node.js's global `fetch`.
 */
export {
  testCaller,
  testCallers,
  type TestCaller,
  type TestCallers,
  type TestCallerOptions,
  type TestCredential,
  type TestRequestOptions,
  type PreparedTestRequest,
} from './testing/test-caller.js';
export { combineEnv } from './testing/combine-env.js';
export type { TestAnswer, TestResponse, HeadersLike } from './testing/test-response.js';
export type { TestTarget, HttpServerLike, NestApplicationLike } from './testing/test-target.js';
