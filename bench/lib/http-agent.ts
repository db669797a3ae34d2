import { Agent, request as httpRequest } from 'node:http';

/*
 * The sign-in load's HTTP client: node:http on a keep-alive Agent instead of fetch (undici).
 * The load generator shares the machine with the servers it measures; fetch cost about 12 % of
 * a sign-in's CPU here (bench/sign-in-budget.ts, eleventh round), node:http costs less (bench/
 * load-generator-cost.ts measures both in one run), and what the generator does not use the
 * servers get. Same semantics as test/helpers/browserless.ts's UserAgent: manual redirects,
 * a cookie jar fed by Set-Cookie, the body read whole.
 */

/** What the bench's flows read of an answer (a fetch Response has the same shape). */
export interface AgentResponse {
  readonly status: number;
  readonly headers: { get(name: string): string | null };
  text(): Promise<string>;
}

export interface RequestOptions {
  readonly method?: 'GET' | 'POST';
  readonly headers?: Record<string, string>;
  readonly body?: string;
}

/** Loopback keep-alive connections shared by every request of the run (as fetch's global pool is). */
const keepAlive = new Agent({ keepAlive: true });

/** One request through node:http: the answer with its body read (the connection goes back to the pool). */
export function send(url: string, options: RequestOptions = {}): Promise<AgentResponse & { readonly setCookies: readonly string[] }> {
  return new Promise((resolve, reject) => {
    const headers: Record<string, string | number> = { ...options.headers };
    if (options.body !== undefined) headers['content-length'] = Buffer.byteLength(options.body);
    const outgoing = httpRequest(url, { method: options.method ?? 'GET', headers, agent: keepAlive }, (incoming) => {
      const chunks: Buffer[] = [];
      incoming.on('data', (chunk: Buffer) => chunks.push(chunk));
      incoming.once('error', reject);
      incoming.once('end', () => {
        const body = Buffer.concat(chunks).toString('utf8');
        const raw = incoming.headers;
        resolve({
          status: incoming.statusCode ?? 0,
          headers: {
            get: (name) => {
              const value = raw[name.toLowerCase()];
              return value === undefined ? null : Array.isArray(value) ? value.join(', ') : value;
            },
          },
          setCookies: raw['set-cookie'] ?? [],
          text: () => Promise.resolve(body),
        });
      });
    });
    outgoing.once('error', reject);
    outgoing.end(options.body);
  });
}

/** What the flows need of a user agent: test/helpers/browserless.ts's UserAgent (fetch) or BenchAgent. */
export interface PageAgent {
  request(url: string): Promise<AgentResponse>;
  postForm(url: string, form: Record<string, string>): Promise<AgentResponse>;
}

/** A cookie-keeping user agent on node:http (manual redirects, like UserAgent). */
export class BenchAgent implements PageAgent {
  readonly cookies = new Map<string, string>();

  async request(url: string, options: RequestOptions = {}): Promise<AgentResponse> {
    const headers = { ...options.headers };
    if (this.cookies.size > 0) headers.cookie = [...this.cookies].map(([name, value]) => `${name}=${value}`).join('; ');
    const response = await send(url, { ...options, headers });
    for (const line of response.setCookies) {
      const [pair] = line.split(';');
      const index = pair!.indexOf('=');
      const name = pair!.slice(0, index).trim();
      const value = pair!.slice(index + 1).trim();
      if (value === '' || /expires=Thu, 01 Jan 1970/i.test(line)) this.cookies.delete(name);
      else this.cookies.set(name, value);
    }
    return response;
  }

  postForm(url: string, form: Record<string, string>): Promise<AgentResponse> {
    return this.request(url, { method: 'POST', headers: { 'content-type': 'application/x-www-form-urlencoded' }, body: new URLSearchParams(form).toString() });
  }
}
