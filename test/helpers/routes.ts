/** Every route and method the router knows, from `printRoutes({ commonPrefix: false })`. */
export function registeredRoutes(printed: string): { path: string; methods: string[] }[] {
  const out: { path: string; methods: string[] }[] = [];
  const stack: string[] = [];
  for (const line of printed.split('\n')) {
    const match = /^([\s│]*)[├└]── (.*?)(?: \(([^)]*)\))?$/.exec(line);
    if (!match) continue;
    const depth = match[1]!.length / 4;
    stack.length = depth;
    stack[depth] = match[2]!;
    if (match[3]) out.push({ path: stack.join('').replace(/^\/?/, '/'), methods: match[3].split(', ') });
  }
  return out;
}
