import type { z } from 'zod';
import type { OperationContext } from '../operations/context.ts';
import type { BodyLimit } from './json-body.ts';

export interface RouteInput {
  readonly params: Readonly<Record<string, string>>;
  readonly query: Readonly<Record<string, unknown>>;
  readonly body: unknown;
  readonly op: OperationContext;
}

export interface RouteResult {
  readonly status?: number;
  readonly body?: unknown;
  readonly headers?: Readonly<Record<string, string>>;
}

/**
 * One admin API route. The router is built from these and so is the OpenAPI document, so the
 * two cannot drift: the same zod schema validates the body and describes it.
 */
export interface AdminRoute {
  readonly method: 'get' | 'post' | 'put' | 'patch' | 'delete';
  /** Koa path relative to /admin/api/v1, e.g. /clients/:clientId */
  readonly path: string;
  readonly tag: string;
  readonly summary: string;
  readonly body?: z.ZodType;
  readonly query?: z.ZodObject;
  /** The success status (200 unless said). */
  readonly status?: number;
  /** Whether unknown path ids can give 404; whether the route can conflict (409). */
  readonly notFound?: boolean;
  readonly conflict?: boolean;
  /** Largest JSON body in bytes (default 64 KiB), and the code a bigger one is refused with (default body_too_large). */
  readonly bodyLimit?: number | BodyLimit;
  /** The body is handed to `handle` read but not parsed (a JsonBody), to be parsed as a stream: a large one must not hold every other request while it is. */
  readonly streamedBody?: true;
  /** The body may be left out altogether (no Content-Length, or 0): the handler gets `{}`. */
  readonly optionalBody?: true;
  /** The success body is a JSON array (list routes), not an object. */
  readonly list?: boolean;
  readonly handle: (input: RouteInput) => Promise<RouteResult>;
}
