import { errors } from 'oidc-provider';

/**
 * `invalid_grant` with this text as `error_description`. The library's InvalidGrant always says
 * "grant request is invalid" and keeps its argument as a detail for logs; Gatehouse's own grants
 * owe the caller the reason (without naming which of the indistinguishable sign-in failures it was).
 */
export function invalidGrant(description: string): InstanceType<typeof errors.InvalidGrant> {
  return Object.assign(new errors.InvalidGrant(description), { error_description: description });
}
