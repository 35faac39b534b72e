/** A small router over AWS REST paths: method + segments, `{name}` captures one decoded segment. */

export interface Match<H> {
  handler: H;
  params: Record<string, string>;
}

interface Route<H> {
  method: string;
  segments: string[];
  handler: H;
}

export class Router<H> {
  private readonly routes: Route<H>[] = [];

  add(method: string, pattern: string, handler: H): this {
    this.routes.push({ method, segments: split(pattern), handler });
    return this;
  }

  /** `undefined` when no route has this path; `"method"` when the path exists with another method. */
  match(method: string, rawPath: string): Match<H> | "method" | undefined {
    const segments = split(rawPath);
    let pathKnown = false;
    for (const r of this.routes) {
      if (r.segments.length !== segments.length) continue;
      const params: Record<string, string> = {};
      let ok = true;
      for (let i = 0; i < segments.length && ok; i++) {
        const want = r.segments[i]!;
        const got = segments[i]!;
        if (want.startsWith("{")) {
          try {
            params[want.slice(1, -1)] = decodeURIComponent(got);
          } catch {
            ok = false;
          }
        } else ok = want === got;
      }
      if (!ok) continue;
      pathKnown = true;
      if (r.method === method) return { handler: r.handler, params };
    }
    return pathKnown ? "method" : undefined;
  }
}

/** Splits a path into segments, ignoring one trailing slash (the AWS CLI lists with `/functions/`). */
function split(path: string): string[] {
  const trimmed = path.length > 1 && path.endsWith("/") ? path.slice(0, -1) : path;
  return trimmed.split("/").slice(1);
}
