import { describe, expect, it } from '@jest/globals';
import { Controller, Get, Injectable, Module, type Type } from '@nestjs/common';
import { Test } from '@nestjs/testing';
import { Parent, Query, ResolveField, Resolver } from '@nestjs/graphql';
import { SubscribeMessage, WebSocketGateway } from '@nestjs/websockets';
import { randomBytes } from 'node:crypto';
import { Caller } from '../decorators/caller.decorator.js';
import { PublicRoute } from '../decorators/public-route.decorator.js';
import { ServiceAuthModule } from '../service-auth.module.js';
import { TrustedCaller } from '../decorators/trusted-caller.decorator.js';
import type { VerifiedCaller } from '../../protocol/verified-caller.js';

const credential = {
  id: 'k-billing',
  apiKey: `sk_${randomBytes(32).toString('base64url')}`,
  secret: randomBytes(32).toString('base64url'),
};

/** What a testing module with the given controllers and providers fails to initialise with (undefined when it starts). */
async function startupError(controllers: Type[], providers: Type[] = []): Promise<string | undefined> {
  @Module({
    imports: [
      ServiceAuthModule.forRoot({ serviceId: 'ledger-service', keys: { callers: [{ id: 'billing-service', keys: [credential] }] } }),
    ],
    controllers,
    providers,
  })
  class AppModule {}
  const moduleRef = await Test.createTestingModule({ imports: [AppModule] }).compile();
  try {
    await moduleRef.init();
    return undefined;
  } catch (error) {
    return (error as Error).message;
  } finally {
    await moduleRef.close();
  }
}

@WebSocketGateway()
@TrustedCaller('billing-service')
class TrustedGateway {
  @SubscribeMessage('balance')
  balance() {
    return 42;
  }
}

@WebSocketGateway()
class PublicGateway {
  @SubscribeMessage('ping')
  @PublicRoute()
  ping() {
    return 'pong';
  }
}

@Controller()
class CallerOnPublicRoute {
  @Get('health')
  @PublicRoute()
  health(@Caller() caller: VerifiedCaller) {
    return caller.id;
  }
}

@Controller()
@PublicRoute()
class CallerUnderPublicController {
  @Get('status')
  status(@Caller() caller: VerifiedCaller) {
    return caller.id;
  }
}

@Controller()
class CallerOnProtectedRoute {
  @Get('whoami')
  whoami(@Caller() caller: VerifiedCaller) {
    return caller.id;
  }
}

/** A resolver is a provider: its @TrustedCaller ids are checked as a controller's are. */
@Injectable()
class ResolverWithTypo {
  @TrustedCaller('biling-service')
  balance() {
    return 42;
  }
}

/** Field resolvers, with no GraphQLModule running guards on them (Nest's default). */
@Resolver('Account')
@TrustedCaller('billing-service')
class AccountResolverTrustedClass {
  @Query('account')
  account() {
    return { id: 'A-1' };
  }

  @ResolveField('notes')
  notes(@Parent() account: { id: string }) {
    return account.id;
  }
}

@Resolver('Account')
class AccountResolverPublicField {
  @ResolveField('notes')
  @PublicRoute()
  notes() {
    return '';
  }
}

@Resolver('Account')
class AccountResolverPlain {
  @Query('account')
  @TrustedCaller('billing-service')
  account() {
    return { id: 'A-1' };
  }

  @ResolveField('notes')
  notes() {
    return '';
  }
}

describe('TrustedCallerValidator', () => {
  it('refuses to start with a declaration on a field resolver when guards do not run there, naming it and fieldResolverEnhancers', async () => {
    const classLevel = await startupError([], [AccountResolverTrustedClass]);
    expect(classLevel).toMatch(/^@TrustedCaller on AccountResolverTrustedClass\.notes, a GraphQL field resolver/);
    expect(classLevel).toContain("fieldResolverEnhancers: ['guards']");
    expect(await startupError([], [AccountResolverPublicField])).toMatch(/^@PublicRoute\(\) on AccountResolverPublicField\.notes/);
  });

  it('lets a field resolver without declarations start, next to a query with its own', async () => {
    expect(await startupError([], [AccountResolverPlain])).toBeUndefined();
  });

  it('refuses to start with @TrustedCaller on a WebSocket gateway (a provider) whose handlers are messages, naming the handler', async () => {
    expect(await startupError([], [TrustedGateway])).toMatch(/@TrustedCaller on TrustedGateway\.balance, a WebSocket message handler/);
  });

  it('lets a gateway with @PublicRoute() message handlers start', async () => {
    expect(await startupError([], [PublicGateway])).toBeUndefined();
  });

  it('refuses to start with @Caller() on a @PublicRoute() handler, or under a @PublicRoute() controller, naming it', async () => {
    expect(await startupError([CallerOnPublicRoute])).toMatch(/@Caller\(\) on CallerOnPublicRoute\.health, a @PublicRoute\(\)/);
    expect(await startupError([CallerUnderPublicController])).toMatch(/@Caller\(\) on CallerUnderPublicController\.status/);
  });

  it('lets @Caller() on a protected handler start', async () => {
    expect(await startupError([CallerOnProtectedRoute])).toBeUndefined();
  });

  it('checks the caller ids of @TrustedCaller on providers (resolvers) too', async () => {
    expect(await startupError([], [ResolverWithTypo])).toMatch(
      /@TrustedCaller\('biling-service'\) on ResolverWithTypo\.balance names a caller that is not configured/,
    );
  });
});
