/**
 * The path a router matches its routes against, from the path of the target as received (no query):
 * the early stranger check must look a request up in the table of protected routes as the router
 * will, or a stranger could send its body to a protected handler by writing the path another way.
 */
export type RoutedPath = (path: string) => string;

/** Express' router matches the path as sent: `/%65cho` is not `/echo` there (no route, a 404). */
export const expressRoutedPath: RoutedPath = (path) => path;

/**
 * Fastify's router (find-my-way) decodes the path before matching, but for the escapes of reserved
 * characters (`%2F`, `%3F`, `%23`, …, which `decodeURI` keeps) and of `%` itself (`%25`, kept too, so
 * that a decoded `%` does not start another escape): `/%65cho` reaches `/echo`. A path that does not
 * decode (broken UTF-8) is matched as sent: Fastify refuses it before routing.
 */
export const fastifyRoutedPath: RoutedPath = (path) => {
  if (!path.includes('%')) return path;
  try {
    return decodeURI(path.replace(/%25/g, '%2525'));
  } catch {
    return path;
  }
};
