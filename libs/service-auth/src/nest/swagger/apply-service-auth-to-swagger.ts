import type { INestApplicationContext } from '@nestjs/common';
import { ProtectedRouteTable } from '../http-setup/protected-route-table.js';

/**
 * The part of an OpenAPI 3 document this helper reads and writes: what @nestjs/swagger's
 * `SwaggerModule.createDocument` returns (OpenAPIObject) has this shape, so @nestjs/swagger itself is
 * never imported and stays the application's own dependency.
 */
export interface OpenApiDocumentLike {
  paths: Record<string, object | undefined>;
  components?: { securitySchemes?: Record<string, unknown> };
}

/** The names of the two security schemes declared, for an application that refers to them itself. */
export const SERVICE_AUTH_SECURITY = { apiKey: 'serviceAuthApiKey', signature: 'serviceAuthSignature' } as const;

const HTTP_METHODS = ['get', 'put', 'post', 'delete', 'options', 'head', 'patch', 'trace'] as const;

const TRY_IT_OUT_NOTE =
  'Swagger UI\'s "Try it out" cannot call this route: it can send an X-API-Key, but not compute a signature, which covers ' +
  'a fresh created time and nonce and the exact bytes sent. Send signed requests with SignedHttpService, testCaller ' +
  '(nest-service-auth/testing), or any RFC 9421 client (see PROTOCOL.md).';

/**
 * Declares nest-service-auth's security on an OpenAPI document: the two security schemes (the
 * `X-API-Key` header, and the RFC 9421 `Signature` with its `Signature-Input`, and `Content-Digest`
 * with a body), and on every operation of a route that needs a caller (every route but @PublicRoute()
 * ones, as the guard decides) a security requirement for both and a 401/403 answer. Public routes are
 * left as they are. Returns the document, changed in place.
 *
 *   const document = SwaggerModule.createDocument(app, new DocumentBuilder().setTitle('inventory').build());
 *   SwaggerModule.setup('docs', app, applyServiceAuthToSwagger(app, document));
 *
 * Call it after `ServiceAuthModule.setup(app, …)` (routes are matched with the global prefix and
 * versioning it records), before or after `listen()`. Path parameters (`{productId}`) match any value.
 */
export function applyServiceAuthToSwagger<D extends OpenApiDocumentLike>(app: INestApplicationContext, document: D): D {
  let table: ProtectedRouteTable;
  try {
    table = app.get(ProtectedRouteTable, { strict: false });
  } catch {
    throw new TypeError(
      'applyServiceAuthToSwagger: the application does not import ServiceAuthModule.forRoot(), so no route needs a caller',
    );
  }
  const components = (document.components ??= {});
  components.securitySchemes = {
    ...components.securitySchemes,
    [SERVICE_AUTH_SECURITY.apiKey]: {
      type: 'apiKey',
      in: 'header',
      name: 'X-API-Key',
      description: `The calling service's API key. Only half of the credential: every request must also be signed. ${TRY_IT_OUT_NOTE}`,
    },
    [SERVICE_AUTH_SECURITY.signature]: {
      type: 'apiKey',
      in: 'header',
      name: 'Signature',
      description:
        'An RFC 9421 HTTP Message Signature (hmac-sha256, label sig1) with its Signature-Input header, covering the method, ' +
        `target, X-API-Key, a Content-Digest of the body when there is one, created, nonce and tag (the audience). ${TRY_IT_OUT_NOTE}`,
    },
  };
  for (const [path, item] of Object.entries(document.paths)) {
    if (!item) continue;
    const operations = item as Record<string, unknown>;
    const concrete = path.replace(/\{[^}]+\}/g, 'x');
    for (const method of HTTP_METHODS) {
      const operation = operations[method] as { security?: unknown[]; responses?: Record<string, unknown> } | undefined;
      if (!operation || table.protectedRouteFor(method.toUpperCase(), concrete) === undefined) continue;
      operation.security = [...(operation.security ?? []), { [SERVICE_AUTH_SECURITY.apiKey]: [], [SERVICE_AUTH_SECURITY.signature]: [] }];
      const responses = (operation.responses ??= {});
      responses['401'] ??= { description: "The caller was not authenticated: the JSON body's `reason` says why (see PROTOCOL.md §4)" };
      responses['403'] ??= { description: 'The caller is not trusted by this route (`caller_not_trusted`), or another refusal of §4' };
    }
  }
  return document;
}
