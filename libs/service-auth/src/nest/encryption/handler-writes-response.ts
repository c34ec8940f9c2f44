/**
 * Whether Nest leaves the response to the handler: it injects the response (`@Res()`) or `@Next()`
 * without `passthrough`. Nest then sends nothing of what the handler returns, so an interceptor has
 * nothing to transform and must not touch the response either. The same test as Nest's own
 * (RouterExecutionContext.isResponseHandled), on the metadata its decorators write. The keys are
 * spelled out rather than deep-imported from @nestjs/common: they have not changed since Nest 5, and
 * the package's entries do not export them.
 */
const ROUTE_ARGS_METADATA = '__routeArguments__';
const RESPONSE_PASSTHROUGH_METADATA = '__responsePassthrough__';
/** RouteParamtypes.RESPONSE and RouteParamtypes.NEXT. */
const RESPONSE_PARAM_TYPES: ReadonlySet<string> = new Set(['1', '2']);

export function handlerWritesResponse(controller: object, handler: { readonly name: string }): boolean {
  const args = Reflect.getMetadata(ROUTE_ARGS_METADATA, controller, handler.name) as Record<string, unknown> | undefined;
  // Keys are `<paramtype>:<index>` (custom decorators: `<id>__customRouteArgs__:<index>`).
  const injectsResponse = Object.keys(args ?? {}).some((key) => RESPONSE_PARAM_TYPES.has(key.split(':')[0]));
  return injectsResponse && !Reflect.getMetadata(RESPONSE_PASSTHROUGH_METADATA, controller, handler.name);
}
