/** The variables that name a list of ids, which several environments add to instead of replacing. */
const ID_LIST = /_(CALLERS|UPSTREAMS)$/;

/**
 * Several environments as one: `combineEnv(order.env(), audit.env(), payments.upstreamEnv(url))`.
 * The id lists (`SERVICE_AUTH_CALLERS`, `SERVICE_AUTH_UPSTREAMS`, with any prefix) are joined, each id
 * once; any other variable must have one value in all of them. Two callers with the same id and other
 * keys would leave one of them refused, so that throws (naming the variable, never its value).
 */
export function combineEnv(...environments: readonly Record<string, string>[]): Record<string, string> {
  const combined: Record<string, string> = {};
  for (const environment of environments) {
    for (const [name, value] of Object.entries(environment)) {
      const current = combined[name];
      if (current === undefined) combined[name] = value;
      else if (ID_LIST.test(name)) combined[name] = [...new Set([...ids(current), ...ids(value)])].join(',');
      else if (current !== value) {
        throw new TypeError(`combineEnv: ${name} has two different values; give each caller (and upstream) its own id`);
      }
    }
  }
  return combined;
}

function ids(list: string): string[] {
  return list
    .split(',')
    .map((id) => id.trim())
    .filter(Boolean);
}
