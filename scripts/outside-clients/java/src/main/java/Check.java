// Gatehouse checked from outside with Nimbus oauth2-oidc-sdk on JDK 17. See ../README.md.
// Requests go out through Nimbus's HTTPRequest (HttpURLConnection) without setting Accept, so
// Java's default `Accept: text/html, image/gif, image/jpeg, *; q=.2, */*; q=.2` is what
// Gatehouse sees: every answer, errors included, must still be JSON.
import com.nimbusds.jose.JWSAlgorithm;
import com.nimbusds.oauth2.sdk.*;
import com.nimbusds.oauth2.sdk.auth.ClientAuthentication;
import com.nimbusds.oauth2.sdk.auth.ClientSecretBasic;
import com.nimbusds.oauth2.sdk.auth.Secret;
import com.nimbusds.oauth2.sdk.http.HTTPRequest;
import com.nimbusds.oauth2.sdk.http.HTTPResponse;
import com.nimbusds.oauth2.sdk.id.*;
import com.nimbusds.oauth2.sdk.pkce.CodeChallengeMethod;
import com.nimbusds.oauth2.sdk.pkce.CodeVerifier;
import com.nimbusds.oauth2.sdk.token.*;
import com.nimbusds.openid.connect.sdk.*;
import com.nimbusds.openid.connect.sdk.claims.IDTokenClaimsSet;
import com.nimbusds.openid.connect.sdk.op.OIDCProviderMetadata;
import com.nimbusds.openid.connect.sdk.token.OIDCTokens;
import com.nimbusds.openid.connect.sdk.validators.IDTokenValidator;

import java.io.BufferedReader;
import java.io.InputStreamReader;
import java.net.URI;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;

public class Check {
  interface Body { void run() throws Exception; }

  static int passed = 0, failed = 0;

  static String env(String name) {
    String value = System.getenv(name);
    if (value == null || value.isEmpty()) { System.err.println(name + " is not set"); System.exit(2); }
    return value;
  }

  static void check(String name, Body body) {
    try { body.run(); passed++; System.out.println("PASS " + name); }
    catch (Throwable error) { failed++; System.out.println("FAIL " + name + ": " + error); }
  }

  static void require(boolean condition, String message) { if (!condition) throw new AssertionError(message); }

  static HTTPResponse send(HTTPRequest request) throws Exception {
    require(request.getAccept() == null, "Accept was set; the check wants HttpURLConnection's default");
    return request.send();
  }

  static void expectError(HTTPResponse response, String code) throws Exception {
    require(response.getHeaderValue("Content-Type") != null && response.getHeaderValue("Content-Type").startsWith("application/json"),
        "HTTP " + response.getStatusCode() + " with Content-Type " + response.getHeaderValue("Content-Type") + ": " + response.getBody());
    TokenResponse parsed = TokenResponse.parse(response);
    require(!parsed.indicatesSuccess(), "request succeeded");
    require(code.equals(parsed.toErrorResponse().getErrorObject().getCode()), "got " + parsed.toErrorResponse().getErrorObject());
  }

  static OIDCProviderMetadata op;
  static OIDCTokens tokens;
  static Subject subject;

  public static void main(String[] args) throws Exception {
    Issuer issuer = new Issuer(env("GH_ISSUER"));
    ClientID clientID = new ClientID(env("GH_CLIENT_ID"));
    ClientAuthentication auth = new ClientSecretBasic(clientID, new Secret(env("GH_CLIENT_SECRET")));
    URI redirectURI = URI.create(env("GH_REDIRECT_URI"));
    URI api = URI.create(env("GH_API"));
    String username = env("GH_USERNAME");
    Path signin = Path.of(System.getProperty("signin", "../signin.mjs")).toAbsolutePath();

    check("discovery", () -> {
      op = OIDCProviderMetadata.resolve(issuer);
      require(op.getIntrospectionEndpointURI() != null && op.getRevocationEndpointURI() != null, "endpoints missing");
    });
    if (op == null) { System.out.println("nimbus: 0 passed, 1 failed"); System.exit(1); }

    check("client_credentials", () -> {
      TokenRequest request = new TokenRequest.Builder(op.getTokenEndpointURI(), auth, new ClientCredentialsGrant()).resource(api).build();
      TokenResponse response = TokenResponse.parse(send(request.toHTTPRequest()));
      require(response.indicatesSuccess(), "error " + (response.indicatesSuccess() ? "" : response.toErrorResponse().getErrorObject()));
      AccessToken token = response.toSuccessResponse().getTokens().getAccessToken();
      TokenIntrospectionResponse info = TokenIntrospectionResponse.parse(send(new TokenIntrospectionRequest(op.getIntrospectionEndpointURI(), auth, token).toHTTPRequest()));
      TokenIntrospectionSuccessResponse success = info.toSuccessResponse();
      require(success.isActive() && clientID.getValue().equals(success.getSubject().getValue()) && success.getJWTID() != null, success.toJSONObject().toString());
    });

    check("client_credentials wrong secret -> invalid_client (default Accept)", () -> {
      ClientAuthentication wrong = new ClientSecretBasic(clientID, new Secret("wrong-secret"));
      TokenRequest request = new TokenRequest.Builder(op.getTokenEndpointURI(), wrong, new ClientCredentialsGrant()).resource(api).build();
      HTTPResponse response = send(request.toHTTPRequest());
      require(response.getStatusCode() == 401, "HTTP " + response.getStatusCode());
      expectError(response, "invalid_client");
    });

    check("authorization code + PKCE, ID token with sid", () -> {
      CodeVerifier verifier = new CodeVerifier();
      State state = new State();
      Nonce nonce = new Nonce();
      AuthenticationRequest request = new AuthenticationRequest.Builder(ResponseType.CODE, new Scope("openid", "profile", "email", "offline_access"), clientID, redirectURI)
          .endpointURI(op.getAuthorizationEndpointURI()).state(state).nonce(nonce).prompt(new Prompt(Prompt.Type.CONSENT))
          .codeChallenge(verifier, CodeChallengeMethod.S256).build();
      Process process = new ProcessBuilder("node", signin.toString(), request.toURI().toString(), redirectURI.toString())
          .redirectError(ProcessBuilder.Redirect.INHERIT).start();
      String callback;
      try (BufferedReader reader = new BufferedReader(new InputStreamReader(process.getInputStream(), StandardCharsets.UTF_8))) { callback = reader.readLine(); }
      require(process.waitFor() == 0 && callback != null, "sign-in failed");
      AuthenticationResponse response = AuthenticationResponseParser.parse(URI.create(callback.trim()));
      if (!response.indicatesSuccess()) throw new AssertionError("authorization error " + response.toErrorResponse().getErrorObject());
      AuthenticationSuccessResponse success = response.toSuccessResponse();
      require(state.equals(success.getState()), "state differs");
      AuthorizationGrant grant = new AuthorizationCodeGrant(success.getAuthorizationCode(), redirectURI, verifier);
      TokenResponse tokenResponse = OIDCTokenResponseParser.parse(send(new TokenRequest(op.getTokenEndpointURI(), auth, grant).toHTTPRequest()));
      require(tokenResponse.indicatesSuccess(), "error " + (tokenResponse.indicatesSuccess() ? "" : tokenResponse.toErrorResponse().getErrorObject()));
      tokens = ((OIDCTokenResponse) tokenResponse.toSuccessResponse()).getOIDCTokens();
      IDTokenValidator validator = new IDTokenValidator(issuer, clientID, JWSAlgorithm.RS256, op.getJWKSetURI().toURL());
      IDTokenClaimsSet claims = validator.validate(tokens.getIDToken(), nonce);
      require(claims.getStringClaim("sid") != null, "no sid in ID token: " + claims.toJSONObject());
      require(tokens.getRefreshToken() != null, "no refresh token");
      subject = claims.getSubject();
    });
    if (tokens == null) { System.out.printf("nimbus: %d passed, %d failed%n", passed, failed); System.exit(1); }

    check("userinfo", () -> {
      UserInfoResponse response = UserInfoResponse.parse(send(new UserInfoRequest(op.getUserInfoEndpointURI(), tokens.getBearerAccessToken()).toHTTPRequest()));
      require(response.indicatesSuccess(), "error " + (response.indicatesSuccess() ? "" : response.toErrorResponse().getErrorObject()));
      require(subject.equals(response.toSuccessResponse().getUserInfo().getSubject()), "sub differs");
    });

    check("introspection (sub, jti, username)", () -> {
      TokenIntrospectionSuccessResponse info = TokenIntrospectionResponse.parse(
          send(new TokenIntrospectionRequest(op.getIntrospectionEndpointURI(), auth, tokens.getAccessToken()).toHTTPRequest())).toSuccessResponse();
      require(info.isActive() && subject.equals(info.getSubject()) && info.getJWTID() != null && username.equals(info.getUsername()), info.toJSONObject().toString());
    });

    check("refresh rotation", () -> {
      RefreshToken old = tokens.getRefreshToken();
      TokenResponse response = OIDCTokenResponseParser.parse(send(new TokenRequest(op.getTokenEndpointURI(), auth, new RefreshTokenGrant(old)).toHTTPRequest()));
      require(response.indicatesSuccess(), "error " + (response.indicatesSuccess() ? "" : response.toErrorResponse().getErrorObject()));
      Tokens next = response.toSuccessResponse().getTokens();
      require(next.getRefreshToken() != null && !next.getRefreshToken().equals(old), "refresh token not rotated");
      require(!next.getAccessToken().equals(tokens.getAccessToken()), "no new access token");
      tokens = new OIDCTokens(next.getAccessToken(), next.getRefreshToken());
    });

    check("revocation", () -> {
      RefreshToken refresh = tokens.getRefreshToken();
      HTTPResponse revoked = send(new TokenRevocationRequest(op.getRevocationEndpointURI(), auth, refresh).toHTTPRequest());
      require(revoked.getStatusCode() == 200, "HTTP " + revoked.getStatusCode());
      TokenIntrospectionSuccessResponse info = TokenIntrospectionResponse.parse(
          send(new TokenIntrospectionRequest(op.getIntrospectionEndpointURI(), auth, refresh).toHTTPRequest())).toSuccessResponse();
      require(!info.isActive(), "still active");
      expectError(send(new TokenRequest(op.getTokenEndpointURI(), auth, new RefreshTokenGrant(refresh)).toHTTPRequest()), "invalid_grant");
    });

    check("bad code -> invalid_grant", () -> {
      AuthorizationGrant grant = new AuthorizationCodeGrant(new AuthorizationCode("not-a-real-code"), redirectURI, new CodeVerifier());
      expectError(send(new TokenRequest(op.getTokenEndpointURI(), auth, grant).toHTTPRequest()), "invalid_grant");
    });

    // More error paths, all with Java's default Accept: each must be a JSON (or RFC 6750) error.
    ClientAuthentication wrongAuth = new ClientSecretBasic(clientID, new Secret("wrong-secret"));
    check("introspection wrong secret -> invalid_client (default Accept)", () -> {
      HTTPResponse response = send(new TokenIntrospectionRequest(op.getIntrospectionEndpointURI(), wrongAuth, new BearerAccessToken("x")).toHTTPRequest());
      require(response.getStatusCode() == 401, "HTTP " + response.getStatusCode());
      TokenIntrospectionResponse parsed = TokenIntrospectionResponse.parse(response);
      require(!parsed.indicatesSuccess() && "invalid_client".equals(parsed.toErrorResponse().getErrorObject().getCode()), "got " + response.getBody());
    });
    check("revocation wrong secret -> invalid_client (default Accept)", () -> {
      HTTPResponse response = send(new TokenRevocationRequest(op.getRevocationEndpointURI(), wrongAuth, new BearerAccessToken("x")).toHTTPRequest());
      require(response.getStatusCode() == 401, "HTTP " + response.getStatusCode());
      require(response.getHeaderValue("Content-Type").startsWith("application/json"), "Content-Type " + response.getHeaderValue("Content-Type"));
      require("invalid_client".equals(ErrorObject.parse(response).getCode()), "got " + response.getBody());
    });
    check("userinfo bad token -> invalid_token (default Accept)", () -> {
      UserInfoResponse response = UserInfoResponse.parse(send(new UserInfoRequest(op.getUserInfoEndpointURI(), new BearerAccessToken("not-a-token")).toHTTPRequest()));
      require(!response.indicatesSuccess(), "bad token accepted");
      require("invalid_token".equals(response.toErrorResponse().getErrorObject().getCode()), "got " + response.toErrorResponse().getErrorObject());
    });

    System.out.printf("nimbus: %d passed, %d failed%n", passed, failed);
    System.exit(failed == 0 ? 0 : 1);
  }
}
