import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { Module, type INestApplication } from '@nestjs/common';
import { ApolloDriver, type ApolloDriverConfig } from '@nestjs/apollo';
import { GraphQLModule, Parent, Query, ResolveField, Resolver } from '@nestjs/graphql';
import { Caller, PublicRoute, ServiceAuthModule, TrustedCaller, type VerifiedCaller } from 'nest-service-auth';
import { newCredential } from './support/credentials.js';
import { listenUrl } from './support/demo-services.js';
import { rawRequest, signedHeaders, signingCredential, type RawResponse } from './support/raw-http.js';
import { createServiceApp } from 'service-app';

const order = newCredential('order-2026-11');
const other = newCredential('other-2026-11');

const typeDefs = /* GraphQL */ `
  type Query {
    whoami: String!
    otherOnly: String!
    health: String!
  }
`;

@Resolver()
class StockResolver {
  @Query('whoami')
  whoami(@Caller() caller: VerifiedCaller) {
    return caller.id;
  }

  @Query('otherOnly')
  @TrustedCaller('other-service')
  otherOnly() {
    return 'secret';
  }

  @Query('health')
  @PublicRoute()
  health() {
    return 'ok';
  }
}

@Module({
  imports: [
    ServiceAuthModule.forRoot({
      serviceId: 'stock-graph',
      keys: {
        callers: [
          { id: 'order-service', keys: [order] },
          { id: 'other-service', keys: [other] },
        ],
      },
    }),
    GraphQLModule.forRoot<ApolloDriverConfig>({ driver: ApolloDriver, typeDefs, graphiql: false }),
  ],
  providers: [StockResolver],
})
class GraphModule {}

interface GraphQLAnswer {
  data?: Record<string, unknown> | null;
  errors?: Array<{ message: string; path?: string[]; extensions?: Record<string, unknown> }>;
}

/**
 * GraphQL over HTTP, with a real Apollo driver: queries run as context `graphql`, and the library
 * verifies their HTTP request (POST /graphql and its exact body) as it verifies any other.
 */
describe.each(['express', 'fastify'] as const)('GraphQL over HTTP with Apollo (%s)', (adapter) => {
  let app: INestApplication;
  let url: string;
  beforeAll(async () => {
    app = await createServiceApp(GraphModule, { adapter, logger: false });
    url = await listenUrl(app);
  });
  afterAll(() => app.close());

  function post(body: string, headers: Record<string, string>): Promise<RawResponse> {
    return rawRequest(url, { method: 'POST', path: '/graphql', headers: { 'content-type': 'application/json', ...headers }, body });
  }

  function signed(query: string, credential = order): { body: string; headers: Record<string, string> } {
    const body = JSON.stringify({ query });
    const headers = signedHeaders(url, signingCredential(credential, { audience: 'stock-graph' }), {
      method: 'POST',
      path: '/graphql',
      body,
    });
    return { body, headers };
  }

  const answer = (res: RawResponse) => res.json as GraphQLAnswer;
  const refusal = (res: RawResponse) => {
    const error = answer(res).errors?.[0];
    return { reason: error?.extensions?.['reason'], status: error?.extensions?.['status'] };
  };

  it('accepts a signed query, and @Caller() sees the caller', async () => {
    const { body, headers } = signed('{ whoami }');
    const res = await post(body, headers);
    expect(answer(res)).toEqual({ data: { whoami: 'order-service' } });
  });

  it('refuses an unsigned query with a GraphQL error carrying the reason and status', async () => {
    const res = await post(JSON.stringify({ query: '{ whoami }' }), {});
    expect(answer(res).data ?? null).toBeNull();
    expect(refusal(res)).toEqual({ reason: 'api_key_missing', status: 401 });
  });

  it('refuses a caller that the resolver does not trust with caller_not_trusted', async () => {
    const { body, headers } = signed('{ otherOnly }');
    const res = await post(body, headers);
    expect(refusal(res)).toEqual({ reason: 'caller_not_trusted', status: 403 });

    const trusted = signed('{ otherOnly }', other);
    expect(answer(await post(trusted.body, trusted.headers))).toEqual({ data: { otherOnly: 'secret' } });
  });

  it('verifies a request with two guarded root fields once (not refused as a replay)', async () => {
    const { body, headers } = signed('{ first: whoami second: whoami }');
    const res = await post(body, headers);
    expect(answer(res)).toEqual({ data: { first: 'order-service', second: 'order-service' } });
  });

  it('applies each resolver its own trust list within one request', async () => {
    const { body, headers } = signed('{ whoami otherOnly }');
    const res = await post(body, headers);
    expect(answer(res).errors?.map((e) => [e.path, e.extensions?.['reason']])).toEqual([[['otherOnly'], 'caller_not_trusted']]);
  });

  it('still refuses the same signed request sent again (a replay)', async () => {
    const { body, headers } = signed('{ whoami }');
    expect(answer(await post(body, headers))).toEqual({ data: { whoami: 'order-service' } });
    expect(refusal(await post(body, headers))).toEqual({ reason: 'nonce_replayed', status: 401 });
  });

  it('runs a @PublicRoute() resolver unsigned', async () => {
    const res = await post(JSON.stringify({ query: '{ health }' }), {});
    expect(answer(res)).toEqual({ data: { health: 'ok' } });
  });

  it('refuses a tampered body', async () => {
    const { body, headers } = signed('{ whoami }');
    const tampered = body.replace('{ whoami }', '{ renamed: whoami }');
    const res = await post(tampered, headers);
    expect(refusal(res)).toEqual({ reason: 'digest_mismatch', status: 401 });
  });
});

const admin = newCredential('admin-2026-11');

const accountTypeDefs = /* GraphQL */ `
  type Account {
    id: String!
    internalNotes: String!
  }
  type Query {
    account: Account!
  }
`;

@Resolver('Account')
class AccountResolver {
  @Query('account')
  account() {
    return { id: 'A-1' };
  }

  @ResolveField('internalNotes')
  @TrustedCaller('admin-service')
  internalNotes(@Parent() account: { id: string }) {
    return `notes for ${account.id}`;
  }
}

function accountModule(graphql: Partial<ApolloDriverConfig>) {
  @Module({
    imports: [
      ServiceAuthModule.forRoot({
        serviceId: 'stock-graph',
        keys: {
          callers: [
            { id: 'order-service', keys: [order] },
            { id: 'admin-service', keys: [admin] },
          ],
        },
      }),
      GraphQLModule.forRoot<ApolloDriverConfig>({ driver: ApolloDriver, typeDefs: accountTypeDefs, graphiql: false, ...graphql }),
    ],
    providers: [AccountResolver],
  })
  class AccountModule {}
  return AccountModule;
}

/**
 * Nest runs no guards on field resolvers (@ResolveField) unless GraphQLModule's options list them in
 * `fieldResolverEnhancers`: a @TrustedCaller there would be silently ignored, so the app does not
 * start; with guards enabled there, the field resolver's own trust list is applied.
 */
describe.each(['express', 'fastify'] as const)('@TrustedCaller on a GraphQL field resolver (%s)', (adapter) => {
  it('is a start-up error naming the resolver and the fix, when guards do not run on field resolvers', async () => {
    const app = await createServiceApp(accountModule({}), { adapter, logger: false });
    const started = await app.init().then(
      () => 'started',
      (error: unknown) => String(error),
    );
    await app.close().catch(() => undefined);
    expect(started).toContain('AccountResolver.internalNotes');
    expect(started).toContain("fieldResolverEnhancers: ['guards']");
  });

  describe("with fieldResolverEnhancers: ['guards']", () => {
    let app: INestApplication;
    let url: string;
    beforeAll(async () => {
      app = await createServiceApp(accountModule({ fieldResolverEnhancers: ['guards'] }), { adapter, logger: false });
      url = await listenUrl(app);
    });
    afterAll(() => app?.close());

    function query(credential: typeof order): Promise<RawResponse> {
      const body = JSON.stringify({ query: '{ account { id internalNotes } }' });
      const headers = signedHeaders(url, signingCredential(credential, { audience: 'stock-graph' }), {
        method: 'POST',
        path: '/graphql',
        body,
      });
      return rawRequest(url, { method: 'POST', path: '/graphql', headers: { 'content-type': 'application/json', ...headers }, body });
    }

    it('refuses the field to a caller it does not trust', async () => {
      const res = await query(order);
      expect(res.text).not.toContain('notes for');
      const errors = (res.json as GraphQLAnswer).errors ?? [];
      expect(errors.map((e) => [e.path, e.extensions?.['reason']])).toEqual([[['account', 'internalNotes'], 'caller_not_trusted']]);
    });

    it('gives the field to the caller it trusts', async () => {
      const res = await query(admin);
      expect(res.json).toEqual({ data: { account: { id: 'A-1', internalNotes: 'notes for A-1' } } });
    });
  });
});
