/**
 * `gatehouse --help`: every command's line and examples. A command's own help
 * (`gatehouse clients create --help`) is its part of this text (src/cli/help.ts commandHelp).
 */
export const USAGE = `usage: gatehouse <command> [options] [--json]

commands:
  clients create --name NAME [--type confidential|public] [--application-type web|native]
                 [--redirect-uri URI]...
                 [--post-logout-redirect-uri URI]... [--grant-type TYPE]... [--scope "a b"]
                 [--default-scopes "a b"]   (added to every request unasked: Keycloak's default client scopes)
                 [--api IDENTIFIER]... [--default-api IDENTIFIER] [--api-scope "IDENTIFIER s1 s2"]...
                 [--web-origin ORIGIN]... [--first-party] [--admin] [--client-id ID]
                 [--auth-method client_secret_basic|client_secret_post|private_key_jwt|none]
                 [--jwks JSON | --jwks-file FILE | --jwks-uri URL] [--require-pkce] [--require-mfa]
                 [--logo-uri URL] [--client-uri URL] [--policy-uri URL] [--tos-uri URL]
                 [--backchannel-logout-uri URL] [--backchannel-logout-session-required]
                 [--minimal-id-token] [--login-uses-default-api] [--token-claims gatehouse|keycloak]
                 [--userinfo-signed-response-alg RS256|ES256]   (userinfo as a signed JWT)
                 [--service-account-role ROLE]...   (in its client_credentials tokens, as a user's roles; never admin)
                 [--allow-password-grant]   (confidential first-party clients only)
                 [--exchange-api IDENTIFIER]... [--exchange-trust CLIENT_ID]...   (token exchange policy)
  clients list [--query TEXT] [--limit N] [--offset N] | get ID | delete ID | rotate-secret ID [--grace DURATION]
  clients update ID [same options as create, plus --no-first-party --no-admin --no-require-pkce --no-require-mfa
                 --no-minimal-id-token --no-login-uses-default-api --no-allow-password-grant
                 --no-token-exchange, --unset FIELD (e.g. --unset logo_uri)]
                 a list option given (--redirect-uri, --web-origin, --api, --grant-type, ...) replaces the whole list:
                 give every value the client keeps (gatehouse clients get ID shows them)
  users create --username NAME [--email EMAIL] [--name NAME] [--role ROLE]... [--group GROUP]...
               [PROFILE OPTIONS] (--password-stdin | --invite: email them a link to set their own; needs --email and SMTP)
      PROFILE OPTIONS (OpenID standard claims): --given-name --family-name --middle-name --nickname
      --profile URL --picture URL --website URL --gender --birthdate YYYY-MM-DD --zoneinfo Europe/Paris
      --locale en-US --phone-number +16045551234 --phone-number-verified --no-phone-number-verified
      --email-verified --no-email-verified --address-formatted --address-street --address-locality
      --address-region --address-postal-code --address-country (together they replace the address)
      --attribute NAME=VALUE (a custom attribute; repeat a NAME for a list, NAME[]=VALUE for a list of one)
      --require-action ACTION (repeatable): update_password, verify_email, configure_totp or update_profile,
      asked for at the user's next sign-in
  users update USER [same options as create but --username --role --group --password-stdin, plus --clear-address;
               an empty value clears a field; --attribute NAME= removes an attribute; --require-action replaces
               the required actions, --clear-required-actions removes them]
  users get USER
  users list [--query PREFIX] [--role ROLE] [--limit N] [--offset N]
  users set-password USER --password-stdin [--temporary]   (USER: id, username or email; --temporary: the user
               must choose another at their next sign-in)
  users invite USER [--client-id ID --redirect-uri URI] [--lifetime SECONDS]
               email a link to set their password (ends the previous one; needs SMTP); with a client's
               registered redirect URI the page afterwards leads back to that application
  users invite USER --show | --revoke
               the invitation that still works (sent, expires) | end it: its link stops working
  users disable USER | enable USER | unlock USER
  users mfa USER [--reset]                      second factors: show, or remove all (app, passkeys, recovery codes)
  users delete USER [--yes]                     delete for good: sessions, grants, tokens, factors, links, consents
               and the user (audit events stay); asks to type the username at a terminal, else needs --yes
  apis create --identifier URI --scope "read write" [--format jwt|opaque] [--alg RS256|ES256]
              [--ttl SECONDS] [--roles] [--groups] [--token-claims gatehouse|keycloak] [--name NAME]
              [--introspection-client CLIENT_ID]
  apis list | get URI | delete URI
  apis update URI [same options as create, plus --no-roles --no-groups --no-introspection-client]
  claim-scopes create NAME [--description TEXT] [--description-ru|--description-zh-cn|--description-ko TEXT]
              [--map ATTRIBUTE[=CLAIM]]... [--map-list ATTRIBUTE[=CLAIM]]... [--hardcoded CLAIM=VALUE]...
              [--json-type CLAIM=string|long|int|boolean|json]...   (CLAIM: org.unit nests, \. a literal dot)
              [--into id_token,userinfo,access_token,introspection]   (a client asking for scope NAME gets the claims)
  claim-scopes list | get NAME | delete NAME
  claim-scopes update NAME [same options; mappers given replace the list, --no-mappers empties it]
  roles create NAME [--description TEXT] | list | delete NAME
  roles assign NAME --user USER | remove NAME --user USER
  groups create NAME [--description TEXT] | list | delete NAME
  groups assign NAME --user USER | remove NAME --user USER
  idps create --alias ALIAS [--preset google|microsoft|github|gitlab|keycloak] [--tenant TENANT]
              [--base-url URL] [--kind oidc|oauth2] [--name NAME] [--icon-url URL] [--issuer URL]
              [--authorization-endpoint URL] [--token-endpoint URL] [--userinfo-endpoint URL]
              --client-id ID [--client-secret-stdin | --private-key-stdin]
              [--auth-method client_secret_basic|client_secret_post|private_key_jwt|none] [--scope "a b"]
              [--claim ATTRIBUTE=CLAIM]... [--role-map CLAIM=VALUE->ROLE]... [--group-map CLAIM=VALUE->GROUP]...
              [--mapping-mode every_sign_in|first_sign_in] [--no-create-accounts] [--link-by-email]
              [--trust-email] [--allowed-domain DOMAIN]... [--home-domain DOMAIN]... [--client CLIENT_ID]...
              [--disabled] [--upstream-logout] [--hide-on-login]   upstream identity providers ("sign in with ...")
  idps list | get ALIAS | delete ALIAS
  idps update ALIAS [same options as create but --preset --tenant --base-url, plus --enabled --create-accounts --no-link-by-email
              --no-trust-email --all-clients --no-upstream-logout --no-hide-on-login]
  idps links USER | unlink USER --provider ALIAS --subject UPSTREAM_SUBJECT
  sessions list --user USER                 sign-in sessions and the clients signed in to
  sessions revoke SESSION_ID --user USER    end a session and revoke its grants
  consents list --user USER                 what the user allowed each app (kept across sessions)
  consents revoke CLIENT_ID --user USER     remove that consent and the user's grants to the app
  audit [--type TYPE] [--user ID|USERNAME] [--client ID] [--from ISO] [--to ISO] [--limit N]
        [--before EVENT_ID]   audit events, newest first (--before: the previous page's next)
  keys list              list signing keys with their status (next, active, retired)
  keys rotate            add new signing and cookie keys; they sign after GATEHOUSE_KEY_PUBLISH_DELAY
  grants revoke --user USER | --client ID | --grant ID
  lockouts clear --ip ADDRESS   lift the lockout of an address locked as a whole (IPv6: its /64);
                         a user's lockouts: users unlock USER
  caches flush           every running instance forgets its cached clients, sessions, grants, users,
                         settings and upstream providers, and rereads its keys (after a database
                         restore or a manual edit; needs REDIS_URL)
  settings get [GROUP]   runtime settings in force (all, or one group: sign-in, password-policy,
                         brute-force, mfa, otp), and where each comes from
  settings set NAME=VALUE...   change them (every server applies it; VALUE default = back to the default):
                         self_registration=true|false  self_registration_domains=example.com,example.org
                         require_verified_email=off|self-registered|all  email_verification_ttl=SECONDS
                         password_reset=true|false  password_reset_ttl=SECONDS  invitation_ttl=SECONDS
                         password_min_length=CHARACTERS  password_max_length=CHARACTERS  password_digits=N
                         password_lowercase=N  password_uppercase=N  password_special=N
                         password_not_username=true|false  password_not_email=true|false  password_history=N
                         lockout_threshold=N  lockout_account_threshold=N
                         lockout_ip_threshold=N  lockout_window=SECONDS  lockout_seconds=SECONDS
                         lockout_max_seconds=SECONDS  mfa_required_roles=a,b  mfa_required_groups=a,b
                         otp_digits=6|8  otp_period=30|60  otp_algorithm=SHA1|SHA256|SHA512  otp_look_ahead=N
                         (a setting whose GATEHOUSE_... variable is set is pinned: read-only)
  export --output FILE (--passphrase-file FILE | --passphrase-stdin | --unencrypted)
                         APIs, roles, groups, claim scopes, clients and upstream providers (with
                         secrets), users (with password hashes, second factors, passkeys, upstream
                         links and consents), runtime settings changed; mode 0600; encrypted with the
                         passphrase (argon2id, AES-256-GCM), or in the clear only with --unencrypted
  import --input FILE [--passphrase-file FILE | --passphrase-stdin] [--dry-run]
                         idempotent; secrets are re-sealed under this deployment's GATEHOUSE_SECRET;
                         settings pinned here and conflicts are listed, what they name left as it is;
                         an encrypted file needs its passphrase and is checked before anything is written;
                         --dry-run checks the file (passphrase, integrity, contents) and writes nothing
  import --keycloak REALM_EXPORT.json|DIR [--dry-run] [--api URI] [--report FILE] [--no-realm-settings]
                         a Keycloak realm export: clients, roles, groups, users with password hashes,
                         and the realm's settings (the runtime settings it changes are listed, from → to;
                         --no-realm-settings leaves them as they are); prints counts and the first 20
                         of each list; --report FILE writes every entry as JSON lines (mode 0600), the
                         last line the counts
  doctor ISSUER_URL      check a running deployment end to end: discovery, keys, readiness, and
                         (with this deployment's settings) a token from a temporary client, its
                         signature, introspection and revocation; the client is removed after

USER is a user's id, username or email; ID and CLIENT_ID a client's id; URI an API's identifier
(the audience of its tokens); ALIAS an upstream provider's alias. An ID that starts with '-' goes
after --. --json prints the result as JSON on stdout; errors are one line on stderr.
Exit codes: 0 done; 1 failed (a name that matches nothing, a value already in use, a pinned
setting, a failed doctor check); 2 invalid command line or value; 75 MongoDB or Redis cannot be
reached (retry later); 78 invalid configuration.
Settings come from the same environment as the server (MONGODB_URI, GATEHOUSE_SECRET, ...).
gatehouse <command> --help (or gatehouse help <command>) shows one command's options and examples;
gatehouse --version the version.

examples:
  printf '%s' "$PASSWORD" | gatehouse users create --username alice --email alice@example.com --password-stdin
  printf '%s' "$PASSWORD" | gatehouse users set-password alice --password-stdin
  gatehouse users update alice --given-name Alice --email-verified
  gatehouse users list --query ali --json
  gatehouse users get alice --json
  gatehouse users disable alice                  # also ends her sessions, grants and tokens
  gatehouse users mfa alice --reset
  gatehouse users delete alice --yes             # for good (GDPR erasure); without --yes it asks at a terminal
  gatehouse roles create auditor --description "read-only"
  gatehouse roles assign auditor --user alice
  gatehouse groups assign finance --user alice
  gatehouse clients create --name Web --redirect-uri https://app.example.com/cb --json   # prints the secret once
  gatehouse clients create --name "Orders sync" --grant-type client_credentials --api https://orders.example.com --json
  gatehouse clients update CLIENT_ID --web-origin https://app.example.com
  gatehouse clients rotate-secret CLIENT_ID --grace 7d --json   # the old secret works 7 more days
  gatehouse clients list --query web
  gatehouse apis create --identifier https://orders.example.com --scope "read write"
  gatehouse users update alice --attribute department=eng
  gatehouse claim-scopes create department --description "See your department" --map department
  gatehouse idps create --alias google --preset google --client-id ID --client-secret-stdin < google.secret
  gatehouse sessions list --user alice
  gatehouse consents revoke CLIENT_ID --user alice
  gatehouse grants revoke --client CLIENT_ID
  gatehouse audit --user alice --type signin.failure --limit 20
  gatehouse keys rotate
  gatehouse caches flush                         # after a database restore or a manual edit
  gatehouse lockouts clear --ip 203.0.113.7      # lift an address's lockout (IPv6: its /64)
  gatehouse settings set password_min_length=12 lockout_threshold=5
  gatehouse export --output backup.json --passphrase-file backup.pass
  gatehouse import --keycloak realm-export.json --dry-run
  gatehouse doctor https://sso.example.com`;
