import { describe, expect, it } from '@jest/globals';
import { All, Controller, Get, Module, Post, Put, RequestMethod, VERSION_NEUTRAL, Version, VersioningType } from '@nestjs/common';
import { RouterModule } from '@nestjs/core';
import { Test } from '@nestjs/testing';
import { newCredential } from '../../../../../test/support/credentials.js';
import { PublicRoute } from '../decorators/public-route.decorator.js';
import { ServiceAuthModule } from '../service-auth.module.js';
import { TrustedCaller } from '../decorators/trusted-caller.decorator.js';
import { HttpRoutingConfig, type RecordedGlobalPrefix } from '../options/http-routing-config.js';
import { ProtectedRouteTable } from './protected-route-table.js';

const caller = newCredential('order-1');

@Controller('orders')
@TrustedCaller('order-service')
class OrdersController {
  @Post()
  add() {}

  @Post(':id/notes')
  note() {}

  @Post('hook')
  @PublicRoute()
  hook() {}

  @Get('ledger')
  ledger() {}

  @Get('ledger/public')
  @PublicRoute()
  publicLedger() {}

  @Put('*')
  any() {}
}

@Controller('open')
@PublicRoute()
class OpenController {
  @Post()
  post() {}

  @Post('closed')
  @TrustedCaller('order-service')
  closed() {}
}

/** The same path, protected for one method and public for all: the public route wins (conservative). */
@Controller('mixed')
class MixedController {
  @Post()
  protectedPost() {}

  @All()
  @PublicRoute()
  anything() {}
}

@Controller({ path: 'items', version: '2' })
class ItemsController {
  @Post()
  add() {}

  @Post('neutral')
  @Version(VERSION_NEUTRAL)
  neutral() {}
}

@Module({ controllers: [ItemsController] })
class ItemsModule {}

async function tableOf(routing: { globalPrefix?: RecordedGlobalPrefix; versioning?: { type: VersioningType.URI } } = {}) {
  const moduleRef = await Test.createTestingModule({
    imports: [
      ServiceAuthModule.forRoot({ serviceId: 'ledger-service', keys: { callers: [{ id: 'order-service', keys: [caller] }] } }),
      ItemsModule,
      RouterModule.register([{ path: 'shop', module: ItemsModule }]),
    ],
    controllers: [OrdersController, OpenController, MixedController],
  }).compile();
  moduleRef.get(HttpRoutingConfig, { strict: false }).record(routing);
  await moduleRef.init();
  return moduleRef.get(ProtectedRouteTable, { strict: false });
}

describe('ProtectedRouteTable', () => {
  it('knows the protected routes by method and path, and leaves public and unknown ones to the guard', async () => {
    const table = await tableOf({ versioning: { type: VersioningType.URI } });
    expect(table.protectedRouteFor('POST', '/orders')).toBe('/orders');
    expect(table.protectedRouteFor('post', '/ORDERS/')).toBe('/orders');
    expect(table.protectedRouteFor('POST', '/orders/42/notes')).toBe('/orders/:id/notes');
    expect(table.protectedRouteFor('PUT', '/orders/a/b')).toBe('/orders/*');
    expect(table.protectedRouteFor('POST', '/orders/hook')).toBeUndefined();
    expect(table.protectedRouteFor('GET', '/orders')).toBeUndefined();
    expect(table.protectedRouteFor('POST', '/open')).toBeUndefined();
    expect(table.protectedRouteFor('POST', '/open/closed')).toBe('/open/closed');
    expect(table.protectedRouteFor('POST', '/mixed')).toBeUndefined();
    expect(table.protectedRouteFor('POST', '/nowhere')).toBeUndefined();
  });

  it('counts HEAD as GET, since a GET route serves HEAD on both adapters', async () => {
    const table = await tableOf({ versioning: { type: VersioningType.URI } });
    expect(table.protectedRouteFor('GET', '/orders/ledger')).toBe('/orders/ledger');
    expect(table.protectedRouteFor('HEAD', '/orders/ledger')).toBe('/orders/ledger');
    expect(table.protectedRouteFor('HEAD', '/orders/ledger/public')).toBeUndefined();
    expect(table.protectedRouteFor('HEAD', '/orders')).toBeUndefined();
  });

  it('builds paths as Nest does: global prefix and its exclusions, URI version, RouterModule path', async () => {
    const table = await tableOf({
      globalPrefix: { prefix: 'api', options: { exclude: [{ path: 'orders', method: RequestMethod.POST }] } },
      versioning: { type: VersioningType.URI },
    });
    expect(table.protectedRouteFor('POST', '/api/v2/shop/items')).toBe('/api/v2/shop/items');
    expect(table.protectedRouteFor('POST', '/v2/shop/items')).toBeUndefined();
    expect(table.protectedRouteFor('POST', '/api/shop/items/neutral')).toBe('/api/shop/items/neutral');
    expect(table.protectedRouteFor('POST', '/orders')).toBe('/orders');
    expect(table.protectedRouteFor('POST', '/api/orders')).toBeUndefined();
    expect(table.protectedRouteFor('POST', '/api/orders/1/notes')).toBe('/api/orders/:id/notes');
  });

  it('refuses to start when a handler declares a version and setup() was not given the versioning', async () => {
    await expect(tableOf()).rejects.toThrow(/ItemsController\.add declares a version.*ServiceAuthModule\.setup/);
  });
});
