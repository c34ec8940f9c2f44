/**
 * `nest-service-auth/swagger`: declares the service-auth security (X-API-Key and the signature) on the
 * routes that need a caller in an OpenAPI document built by @nestjs/swagger. Imports nothing of
 * @nestjs/swagger: it works on the document's shape, so an application without Swagger loads nothing.
 */
export {
  applyServiceAuthToSwagger,
  SERVICE_AUTH_SECURITY,
  type OpenApiDocumentLike,
} from './nest/swagger/apply-service-auth-to-swagger.js';
