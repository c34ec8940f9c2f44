/**
 * GraphQL operations over a WebSocket (graphql-ws) are not verified: the only HTTP request there is
 * the upgrade (GET /graphql, no body), and the operations travel in frames nobody signed. An app
 * that hands that upgrade request to its GraphQL context as `req` (the usual `req ?? extra.request`,
 * to see headers in both transports) must not get its queries and mutations authorised by it: every
 * resolver that is not @PublicRoute() is refused with `context_unsupported`, however the upgrade was
 * signed. Tested with a real graphql-ws client against Apollo, on Express and Fastify.
 */
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { Module, type INestApplication } from '@nestjs/common';
import { ApolloDriver, type ApolloDriverConfig } from '@nestjs/apollo';
import { GraphQLModule, Mutation, Query, Resolver } from '@nestjs/graphql';
import { createClient, type Client, type FormattedExecutionResult } from 'graphql-ws';
import { createRequire } from 'node:module';
import { Caller, PublicRoute, ServiceAuthModule, type VerifiedCaller } from 'nest-service-auth';
import { createServiceApp } from 'service-app';
import { newCredential } from './support/credentials.js';
import { listenUrl, type Adapter } from './support/demo-services.js';
import { signedHeaders, signingCredential } from './support/raw-http.js';

/** The `ws` package's WebSocket (graphql-ws' own peer, which ships no types): only what is used here. */
type WebSocketClass = new (address: string, protocols?: string | string[], options?: { headers?: Record<string, string> }) => object;
const WebSocket = createRequire(import.meta.url)('ws') as WebSocketClass;

/** What the client hands to `next`: data and errors as they travel. */
type GraphQLResult = FormattedExecutionResult<Record<string, unknown>, unknown>;

const order = newCredential('order-2026-11');
const typeDefs = /* GraphQL */ `
  type Query {
    whoami: String!
    health: String!
  }
  type Mutation {
    transfer(amount: Int!): String!
  }
`;

const transfers: string[] = [];

@Resolver()
class MoneyResolver {
  @Query('whoami')
  whoami(@Caller() caller: VerifiedCaller) {
    return caller.id;
  }

  @Query('health')
  @PublicRoute()
  health() {
    return 'ok';
  }

  @Mutation('transfer')
  transfer(@Caller() caller: VerifiedCaller) {
    transfers.push(caller.id);
    return `transfer by ${caller.id}`;
  }
}

@Module({
  imports: [
    ServiceAuthModule.forRoot({ serviceId: 'ledger-graph', keys: { callers: [{ id: 'order-service', keys: [order] }] } }),
    GraphQLModule.forRoot<ApolloDriverConfig>({
      driver: ApolloDriver,
      typeDefs,
      graphiql: false,
      subscriptions: { 'graphql-ws': true },
      context: ({ req, extra }: { req?: unknown; extra?: { request?: unknown } }) => ({ req: req ?? extra?.request }),
    }),
  ],
  providers: [MoneyResolver],
})
class LedgerGraphModule {}

describe.each<Adapter>(['express', 'fastify'])('GraphQL over a WebSocket whose upgrade was signed (%s)', (adapter) => {
  let app: INestApplication;
  let url: string;
  let client: Client;
  beforeAll(async () => {
    app = await createServiceApp(LedgerGraphModule, { adapter, logger: false });
    url = await listenUrl(app);
    // What the caller signed: GET /graphql, no body. The operations go in WebSocket frames.
    const headers = signedHeaders(url, signingCredential(order, { audience: 'ledger-graph' }), { method: 'GET', path: '/graphql' });
    class SignedUpgrade extends WebSocket {
      constructor(address: string, protocols?: string | string[]) {
        super(address, protocols, { headers });
      }
    }
    client = createClient({ url: `${url.replace(/^http/, 'ws')}/graphql`, webSocketImpl: SignedUpgrade, retryAttempts: 0 });
  });
  afterAll(async () => {
    await client?.dispose();
    await app?.close();
  });

  function run(query: string): Promise<GraphQLResult> {
    return new Promise((resolve, reject) => {
      let result: GraphQLResult = {};
      client.subscribe(
        { query },
        {
          next: (value) => (result = value),
          error: (error: unknown) => reject(error instanceof Error ? error : new Error(JSON.stringify(error))),
          complete: () => resolve(result),
        },
      );
    });
  }

  const refusals = (result: GraphQLResult) => (result.errors ?? []).map((e) => e.extensions?.['reason']);

  it('runs a @PublicRoute() query over the socket (the transport works)', async () => {
    expect(await run('{ health }')).toEqual({ data: { health: 'ok' } });
  });

  it('refuses an unsigned mutation sent on the socket, and the mutation does not run', async () => {
    transfers.length = 0;
    const result = await run('mutation { transfer(amount: 900000) }');
    expect(result.data ?? null).toBeNull();
    expect(refusals(result)).toEqual(['context_unsupported']);
    expect(transfers).toEqual([]);
  });

  it('refuses a query that needs a caller', async () => {
    const result = await run('{ whoami }');
    expect(result.data ?? null).toBeNull();
    expect(refusals(result)).toEqual(['context_unsupported']);
  });
});
