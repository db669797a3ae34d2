import type { ParsedUrlQuery } from 'node:querystring';
import { decodeJwt } from 'jose';
import type { Middleware } from 'koa';
import { bufferedForm, FORM_BODY_LIMIT, replaceForm } from '../http/form-body.ts';
import { guarding } from '../routes/guards.ts';
import { providerRouteAt } from '../routes/match.ts';
import type { RoutesTable } from '../routes/table.ts';

/** Where and how the authorization error goes, and what the client correlates it with. */
const ANSWER_PARAMS = ['redirect_uri', 'response_mode', 'state'] as const;

/**
 * Gatehouse does not process request objects (OIDC Core §6: optional; discovery does not list
 * `request_parameter_supported`; PAR is the way to push parameters), so the provider answers
 * an authorization request with a `request` parameter with `request_not_supported`
 * (OIDC Core §3.1.2.6). A client that puts redirect_uri, response_mode or state only inside
 * the object (RFC 9101 allows every parameter there: openid-client's JAR URLs carry only
 * client_id and request; the OpenID conformance suite's form_post plan puts response_mode and
 * state there) would get that answer at another address, in another shape or without its
 * state, and could not read it.
 *
 * In front of the provider, this copies those three parameters from the object's payload,
 * where the request does not carry them itself, so the refusal goes where and how the client
 * asked. The payload is not verified and need not be: the provider checks these values as it
 * checks the same parameters sent in the query (redirect_uri against the client's registered
 * URIs — an unregistered one gets the error page, no redirect —, response_mode against the
 * modes it supports), and the request is refused whatever they are. An object that is not a
 * readable JWT (encrypted, malformed) is left alone.
 */
export function answerRefusedRequestObjects(routes: RoutesTable): Middleware {
  return guarding(['authorization'], async (ctx, next) => {
    if ((ctx.method !== 'GET' && ctx.method !== 'POST') || providerRouteAt(routes, ctx.path) !== 'authorization') return next();
    if (ctx.method === 'GET') {
      const params = new URLSearchParams(ctx.querystring);
      const added = fromRequestObject(params.getAll('request'), (name) => params.has(name));
      if (added.length > 0) {
        for (const [name, value] of added) params.set(name, value);
        ctx.querystring = params.toString();
      }
      return next();
    }
    // A form body is read ahead only when its declared length is within the provider's own limit
    // (Node stops the body there), so reading it here never cuts a request the provider would take.
    const length = Number(ctx.get('content-length') || Number.NaN);
    if (!(length <= FORM_BODY_LIMIT)) return next();
    const form = await bufferedForm(ctx);
    if (form === 'not_a_form' || form === 'too_large') return next();
    const request = form.params.request;
    const added = fromRequestObject(request === undefined ? [] : [request].flat(), (name) => form.params[name] !== undefined);
    if (added.length > 0) replaceForm(ctx, { ...form.params, ...Object.fromEntries(added) } satisfies ParsedUrlQuery);
    return next();
  });
}

/** The answer parameters the one request object carries and the request does not. */
function fromRequestObject(requests: readonly string[], present: (name: string) => boolean): Array<[string, string]> {
  // No object, or several (the provider refuses duplicates with invalid_request): nothing to read.
  if (requests.length !== 1) return [];
  let payload: Record<string, unknown>;
  try {
    payload = decodeJwt(requests[0]!);
  } catch {
    return [];
  }
  const added: Array<[string, string]> = [];
  for (const name of ANSWER_PARAMS) {
    const value = payload[name];
    if (!present(name) && typeof value === 'string' && value !== '') added.push([name, value]);
  }
  return added;
}
