// The HTTP stack of inventory-service without its database, for bench/http.bench.mjs.
// Compiled by `tsc -p bench/tsconfig.json` (http.bench.mjs does it) into bench/dist/bench-app.js and
// started by bench/bench-server.mjs in a child process.
//
// Same as apps/inventory-service/src/inventory-app.ts: the same bootstrap (service-app's
// createServiceApp: rawBody, the body limit, body parsers without inflating (ServiceAuthModule.setup's
// where the library is used), the global ValidationPipe), `POST /api/inventory` with @TrustedCaller('order-service'), @HttpCode(200), @Body() DTO,
// @Caller() (in the modes without the library, a decorator of the same cost: BaselineInventoryController) and @Headers('idempotency-key'). What differs, on purpose:
//   - no stock store: the handler answers what the store would for P123 (a PGlite write serialises
//     every request at ~1-2 ms and would hide the guard's cost entirely);
//   - no per-request log line (it costs the same in every mode and would only dilute the comparison);
//   - the DTO also accepts an optional `notes` string, so that a ~1 KiB order validates.
// Modes:
//   plain      no ServiceAuthModule at all (signed requests arrive; their headers are simply ignored)
//   guarded    ServiceAuthModule.forRoot with one caller, 'order-service'; encryption 'optional'. Its
//              credential is hmac-sha256, or ed25519 when the bench passes one (with the service's
//              answer key): bench/ed25519.bench.mjs
//   unsigned   guarded, with signAnswers: false (answers carry no response signature)
//   encrypted  the same, and the route is @EncryptedBody() (a JWE request, an encrypted answer)
//   redis      guarded, with the nonces in Redis (RedisNonceStore at BENCH_REDIS_URL) instead of memory
//   apikey     no ServiceAuthModule; what a user might write instead: a global guard that compares the
//              X-API-Key header with the caller's key (timingSafeEqual), nothing else
//   passport   no ServiceAuthModule; the other usual choice: @nestjs/passport's AuthGuard with the
//              passport-headerapikey strategy, as a global guard, the key checked in validate()
//   hooks      diagnostic: no ServiceAuthModule, but the same kinds of global providers it installs
//              (an async APP_GUARD, one APP_INTERCEPTOR and an APP_FILTER), all doing nothing: the cost of Nest's guard/interceptor machinery
//              alone, apart from the library's own work.
import 'reflect-metadata';
import {
  Body,
  Catch,
  Controller,
  createParamDecorator,
  Headers,
  HttpCode,
  HttpException,
  Inject,
  Injectable,
  Module,
  Post,
  UnauthorizedException,
  type ArgumentsHost,
  type CallHandler,
  type CanActivate,
  type DynamicModule,
  type ExecutionContext,
  type INestApplication,
  type LogLevel,
  type NestInterceptor,
} from '@nestjs/common';
import { APP_FILTER, APP_GUARD, APP_INTERCEPTOR, BaseExceptionFilter } from '@nestjs/core';
import type { Observable } from 'rxjs';
import { timingSafeEqual } from 'node:crypto';
import { AuthGuard, PassportModule, PassportStrategy } from '@nestjs/passport';
import { HeaderAPIKeyStrategy } from 'passport-headerapikey';
import { IsInt, IsOptional, IsString, Matches, Max, MaxLength, Min } from 'class-validator';
import { Caller, EncryptedBody, ServiceAuthModule, TrustedCaller, type VerifiedCaller } from 'nest-service-auth';
import { MemoryNonceStore, type NonceStore } from 'nest-service-auth/core';
import { RedisNonceStore } from 'nest-service-auth/redis';
import { createServiceApp, type HttpAdapterName } from 'service-app';

export type BenchMode = 'plain' | 'guarded' | 'unsigned' | 'encrypted' | 'redis' | 'apikey' | 'passport' | 'hooks';
export type BenchAdapter = HttpAdapterName;

export interface BenchCredential {
  id: string;
  apiKey: string;
  /** hmac-sha256: the shared secret; ed25519: the caller's public key (SPKI DER, base64url). */
  secret: string;
  /** Default hmac-sha256. */
  algorithm?: 'hmac-sha256' | 'ed25519';
}

/** The service's own Ed25519 answer key (PKCS#8 DER, base64url): needed for an ed25519 caller. */
export interface BenchAnswerKey {
  id: string;
  key: string;
}

export interface BenchAppOptions {
  mode: BenchMode;
  adapter: BenchAdapter;
  /** order-service's credential (guarded and encrypted modes). */
  credential: BenchCredential;
  /** The Redis server of the redis mode. */
  redisUrl?: string;
  /** With an ed25519 credential: the key its answers are signed with. */
  answerKey?: BenchAnswerKey;
  logger?: LogLevel[] | false;
}

const MAX_BODY_BYTES = 64 * 1024;

/** inventory-service's StockUpdateDto, plus `notes` so that a 1 KiB order is valid. */
export class BenchStockUpdateDto {
  @IsString()
  @Matches(/^[A-Za-z0-9-]{1,32}$/, { message: 'productId must be 1-32 letters, digits or dashes' })
  productId!: string;

  @IsInt({ message: 'quantity must be a positive integer' })
  @Min(1, { message: 'quantity must be a positive integer' })
  @Max(1_000_000)
  quantity!: number;

  @IsOptional()
  @IsString()
  @MaxLength(4096)
  notes?: string;
}

/** What SqlStockStore answers for a fresh P123 (stock 100): the body of a 200. */
function answer(order: BenchStockUpdateDto) {
  const newStock = 100 - order.quantity;
  return { message: `Inventory updated for product ${order.productId}. New stock: ${newStock}`, productId: order.productId, newStock };
}

@Controller('api/inventory')
@TrustedCaller('order-service')
export class InventoryController {
  @Post()
  @HttpCode(200)
  async update(
    @Body() order: BenchStockUpdateDto,
    @Caller() caller: VerifiedCaller | undefined,
    @Headers('idempotency-key') idempotencyKey: string | undefined,
  ) {
    void caller;
    void idempotencyKey;
    return answer(order);
  }
}

/**
 * The same route for the modes without ServiceAuthModule, where @Caller() (which refuses a request no
 * guard verified) cannot be used: a parameter decorator of the same cost reads the same property.
 */
const UnverifiedCaller = createParamDecorator(
  (_: unknown, ctx: ExecutionContext): unknown => ctx.switchToHttp().getRequest<{ serviceAuthCaller?: unknown }>().serviceAuthCaller,
);

@Controller('api/inventory')
export class BaselineInventoryController {
  @Post()
  @HttpCode(200)
  async update(
    @Body() order: BenchStockUpdateDto,
    @UnverifiedCaller() caller: unknown,
    @Headers('idempotency-key') idempotencyKey: string | undefined,
  ) {
    void caller;
    void idempotencyKey;
    return answer(order);
  }
}

/** The same route, encrypted: JWE request bodies required, answers encrypted under the caller's key. */
@Controller('api/inventory')
@TrustedCaller('order-service')
export class EncryptedInventoryController {
  @Post()
  @HttpCode(200)
  @EncryptedBody()
  async update(
    @Body() order: BenchStockUpdateDto,
    @Caller() caller: VerifiedCaller | undefined,
    @Headers('idempotency-key') idempotencyKey: string | undefined,
  ) {
    void caller;
    void idempotencyKey;
    return answer(order);
  }
}

// The 'hooks' mode: the shapes of ServiceAuthGuard, EncryptedExchangeInterceptor (on a plaintext
// exchange: no operator added) and a global exception filter, without their work.
@Injectable()
class NoopGuard implements CanActivate {
  async canActivate(context: ExecutionContext): Promise<boolean> {
    return context.getType() === 'http';
  }
}

@Injectable()
class PassInterceptor implements NestInterceptor {
  intercept(_context: ExecutionContext, next: CallHandler): Observable<unknown> {
    return next.handle();
  }
}

@Catch(HttpException)
class PassFilter extends BaseExceptionFilter {
  override catch(exception: HttpException, host: ArgumentsHost): void {
    super.catch(exception, host);
  }
}

// The 'apikey' mode: the API-key check a team would hand-write, constant-time compare included.
const BENCH_CREDENTIAL = Symbol('BENCH_CREDENTIAL');

@Injectable()
class HandWrittenApiKeyGuard implements CanActivate {
  private readonly expected: Buffer;
  constructor(@Inject(BENCH_CREDENTIAL) credential: BenchCredential) {
    this.expected = Buffer.from(credential.apiKey, 'utf8');
  }
  canActivate(context: ExecutionContext): boolean {
    const presented = context.switchToHttp().getRequest<{ headers: Record<string, string | string[] | undefined> }>().headers['x-api-key'];
    if (typeof presented !== 'string') throw new UnauthorizedException();
    const bytes = Buffer.from(presented, 'utf8');
    if (bytes.length !== this.expected.length || !timingSafeEqual(bytes, this.expected)) throw new UnauthorizedException();
    return true;
  }
}

// The 'passport' mode: @nestjs/passport + passport-headerapikey, as their READMEs set them up.
@Injectable()
class ApiKeyStrategy extends PassportStrategy(HeaderAPIKeyStrategy, 'api-key') {
  private readonly expected: Buffer;
  constructor(@Inject(BENCH_CREDENTIAL) credential: BenchCredential) {
    super({ header: 'X-API-Key', prefix: '' }, false);
    this.expected = Buffer.from(credential.apiKey, 'utf8');
  }
  validate(apiKey: string): { id: string } {
    const bytes = Buffer.from(apiKey, 'utf8');
    if (bytes.length !== this.expected.length || !timingSafeEqual(bytes, this.expected)) throw new UnauthorizedException();
    return { id: 'order-service' };
  }
}

@Injectable()
class PassportApiKeyGuard extends AuthGuard('api-key') {}

@Module({})
export class BenchAppModule {
  static forMode(mode: BenchMode, credential: BenchCredential, redisUrl?: string, answerKey?: BenchAnswerKey): DynamicModule {
    if (mode === 'plain') return { module: BenchAppModule, controllers: [BaselineInventoryController] };
    if (mode === 'apikey') {
      return {
        module: BenchAppModule,
        controllers: [BaselineInventoryController],
        providers: [
          { provide: BENCH_CREDENTIAL, useValue: credential },
          { provide: APP_GUARD, useClass: HandWrittenApiKeyGuard },
        ],
      };
    }
    if (mode === 'passport') {
      return {
        module: BenchAppModule,
        imports: [PassportModule],
        controllers: [BaselineInventoryController],
        providers: [
          { provide: BENCH_CREDENTIAL, useValue: credential },
          ApiKeyStrategy,
          { provide: APP_GUARD, useClass: PassportApiKeyGuard },
        ],
      };
    }
    if (mode === 'hooks') {
      return {
        module: BenchAppModule,
        controllers: [BaselineInventoryController],
        providers: [
          { provide: APP_GUARD, useClass: NoopGuard },
          { provide: APP_FILTER, useClass: PassFilter },
          { provide: APP_INTERCEPTOR, useClass: PassInterceptor },
        ],
      };
    }
    return {
      module: BenchAppModule,
      imports: [
        ServiceAuthModule.forRoot({
          serviceId: 'inventory-service',
          keys: { callers: [{ id: 'order-service', keys: [credential] }], ...(answerKey ? { answerKeys: [answerKey] } : {}) },
          maxBodyBytes: MAX_BODY_BYTES,
          encryption: 'optional',
          signAnswers: mode !== 'unsigned',
          // The default store holds 1 000 000 live nonces per caller for the default 300 s window, i.e.
          // it refuses that caller (429) once it has sent more than ~3 300 req/s sustained for 5 minutes.
          // A bench server takes up to ~40 s x several thousand req/s from its one caller, so it gets room
          // for every nonce of the run.
          replay: { store: nonceStore(mode, redisUrl) },
        }),
      ],
      controllers: [mode === 'encrypted' ? EncryptedInventoryController : InventoryController],
    };
  }
}

function nonceStore(mode: BenchMode, redisUrl: string | undefined): NonceStore {
  if (mode !== 'redis') return new MemoryNonceStore({ maxNoncesPerCaller: 5_000_000 });
  if (!redisUrl) throw new Error('the redis mode needs a Redis URL (BENCH_REDIS_URL)');
  return RedisNonceStore.fromUrl(redisUrl, 'inventory-bench');
}

/** The modes that import ServiceAuthModule, and so call ServiceAuthModule.setup. */
const SERVICE_AUTH_MODES: ReadonlySet<BenchMode> = new Set<BenchMode>(['guarded', 'unsigned', 'encrypted', 'redis']);

/** inventory-app.ts's createInventoryApp, with the bench module. */
export async function createBenchApp(options: BenchAppOptions): Promise<INestApplication> {
  const app = await createServiceApp(BenchAppModule.forMode(options.mode, options.credential, options.redisUrl, options.answerKey), {
    adapter: options.adapter,
    logger: options.logger ?? ['error', 'warn'],
    maxBodyBytes: MAX_BODY_BYTES,
    validation: true,
    // The library's start-up step where the library is used; the other modes get the same parsers'
    // settings (limit, no inflating) from createServiceApp.
    serviceAuth: SERVICE_AUTH_MODES.has(options.mode) ? {} : false,
  });
  app.enableShutdownHooks();
  return app;
}
