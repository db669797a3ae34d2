// Gatehouse checked from outside with go-oidc and golang.org/x/oauth2. See ../README.md.
// Introspection and revocation have no helper in either library, so they are plain
// net/http POSTs with HTTP Basic, as a Go resource server would send them.
package main

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"strings"
	"time"

	"github.com/coreos/go-oidc/v3/oidc"
	"golang.org/x/oauth2"
	"golang.org/x/oauth2/clientcredentials"
)

func env(name string) string {
	value := os.Getenv(name)
	if value == "" {
		fmt.Fprintf(os.Stderr, "%s is not set\n", name)
		os.Exit(2)
	}
	return value
}

var (
	issuer      = env("GH_ISSUER")
	clientID    = env("GH_CLIENT_ID")
	secret      = env("GH_CLIENT_SECRET")
	redirectURI = env("GH_REDIRECT_URI")
	api         = env("GH_API")
	username    = env("GH_USERNAME")
	passed      = 0
	failed      = 0
)

func check(name string, body func() error) {
	if err := body(); err != nil {
		failed++
		fmt.Printf("FAIL %s: %v\n", name, err)
		return
	}
	passed++
	fmt.Printf("PASS %s\n", name)
}

func expectCode(err error, code string) error {
	var retrieve *oauth2.RetrieveError
	if !errors.As(err, &retrieve) {
		return fmt.Errorf("expected %s, got %v", code, err)
	}
	if retrieve.ErrorCode != code {
		return fmt.Errorf("expected %s, got %q (HTTP %d, %s)", code, retrieve.ErrorCode, retrieve.Response.StatusCode, retrieve.Response.Header.Get("Content-Type"))
	}
	return nil
}

func postForm(endpoint string, form url.Values) (*http.Response, error) {
	request, err := http.NewRequest(http.MethodPost, endpoint, strings.NewReader(form.Encode()))
	if err != nil {
		return nil, err
	}
	request.SetBasicAuth(url.QueryEscape(clientID), url.QueryEscape(secret))
	request.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	return http.DefaultClient.Do(request)
}

func introspect(endpoint, token string) (map[string]any, error) {
	response, err := postForm(endpoint, url.Values{"token": {token}})
	if err != nil {
		return nil, err
	}
	defer response.Body.Close()
	var body map[string]any
	if err := json.NewDecoder(response.Body).Decode(&body); err != nil {
		return nil, fmt.Errorf("introspection: HTTP %d, not JSON: %w", response.StatusCode, err)
	}
	return body, nil
}

func main() {
	ctx := context.Background()
	var provider *oidc.Provider
	var endpoints struct {
		Introspection string `json:"introspection_endpoint"`
		Revocation    string `json:"revocation_endpoint"`
	}
	check("discovery", func() (err error) {
		if provider, err = oidc.NewProvider(ctx, issuer); err != nil {
			return err
		}
		if err = provider.Claims(&endpoints); err != nil {
			return err
		}
		if endpoints.Introspection == "" || endpoints.Revocation == "" {
			return errors.New("introspection or revocation endpoint missing")
		}
		return nil
	})
	if provider == nil {
		fmt.Printf("go-oidc: %d passed, %d failed\n", passed, failed)
		os.Exit(1)
	}

	credentials := clientcredentials.Config{
		ClientID: clientID, ClientSecret: secret, TokenURL: provider.Endpoint().TokenURL,
		EndpointParams: url.Values{"resource": {api}}, AuthStyle: oauth2.AuthStyleInHeader,
	}
	check("client_credentials", func() error {
		token, err := credentials.Token(ctx)
		if err != nil {
			return err
		}
		info, err := introspect(endpoints.Introspection, token.AccessToken)
		if err != nil {
			return err
		}
		if info["active"] != true || info["sub"] != clientID || info["jti"] == nil {
			return fmt.Errorf("introspection: %v", info)
		}
		return nil
	})
	check("client_credentials wrong secret -> invalid_client", func() error {
		wrong := credentials
		wrong.ClientSecret = "wrong-secret"
		_, err := wrong.Token(ctx)
		return expectCode(err, "invalid_client")
	})

	config := oauth2.Config{
		ClientID: clientID, ClientSecret: secret, RedirectURL: redirectURI,
		Endpoint: oauth2.Endpoint{AuthURL: provider.Endpoint().AuthURL, TokenURL: provider.Endpoint().TokenURL, AuthStyle: oauth2.AuthStyleInHeader},
		Scopes:   []string{oidc.ScopeOpenID, "profile", "email", oidc.ScopeOfflineAccess},
	}
	verifier := provider.Verifier(&oidc.Config{ClientID: clientID})
	var token *oauth2.Token
	var subject string
	check("authorization code + PKCE, ID token with sid", func() error {
		pkce := oauth2.GenerateVerifier()
		state, nonce := oauth2.GenerateVerifier(), oauth2.GenerateVerifier()
		authURL := config.AuthCodeURL(state, oidc.Nonce(nonce), oauth2.S256ChallengeOption(pkce), oauth2.SetAuthURLParam("prompt", "consent"))
		_, here, _, _ := runtime.Caller(0)
		output, err := exec.Command("node", filepath.Join(filepath.Dir(here), "..", "signin.mjs"), authURL, redirectURI).Output()
		if err != nil {
			return fmt.Errorf("sign-in: %w", err)
		}
		callback, err := url.Parse(strings.TrimSpace(string(output)))
		if err != nil {
			return err
		}
		if callback.Query().Get("state") != state {
			return errors.New("state differs")
		}
		token, err = config.Exchange(ctx, callback.Query().Get("code"), oauth2.VerifierOption(pkce))
		if err != nil {
			return err
		}
		raw, ok := token.Extra("id_token").(string)
		if !ok {
			return errors.New("no id_token")
		}
		idToken, err := verifier.Verify(ctx, raw)
		if err != nil {
			return err
		}
		if idToken.Nonce != nonce {
			return errors.New("nonce differs")
		}
		// at_hash is optional in the code flow (OIDC Core 3.1.3.6); check it when present.
		if idToken.AccessTokenHash != "" {
			if err := idToken.VerifyAccessToken(token.AccessToken); err != nil {
				return err
			}
		}
		var claims struct {
			Sid string `json:"sid"`
		}
		if err := idToken.Claims(&claims); err != nil {
			return err
		}
		if claims.Sid == "" {
			return errors.New("no sid in ID token")
		}
		if token.RefreshToken == "" {
			return errors.New("no refresh token")
		}
		subject = idToken.Subject
		return nil
	})
	if token == nil {
		fmt.Printf("go-oidc: %d passed, %d failed\n", passed, failed)
		os.Exit(1)
	}
	check("userinfo", func() error {
		info, err := provider.UserInfo(ctx, oauth2.StaticTokenSource(token))
		if err != nil {
			return err
		}
		if info.Subject != subject {
			return fmt.Errorf("sub %q differs from %q", info.Subject, subject)
		}
		return nil
	})
	check("introspection (sub, jti, username)", func() error {
		info, err := introspect(endpoints.Introspection, token.AccessToken)
		if err != nil {
			return err
		}
		if info["active"] != true || info["sub"] != subject || info["jti"] == nil || info["username"] != username {
			return fmt.Errorf("introspection: %v", info)
		}
		return nil
	})
	check("refresh rotation", func() error {
		stale := &oauth2.Token{RefreshToken: token.RefreshToken, Expiry: time.Now().Add(-time.Hour)}
		next, err := config.TokenSource(ctx, stale).Token()
		if err != nil {
			return err
		}
		if next.RefreshToken == "" || next.RefreshToken == token.RefreshToken {
			return errors.New("refresh token not rotated")
		}
		if next.AccessToken == token.AccessToken {
			return errors.New("no new access token")
		}
		token = next
		return nil
	})
	check("revocation", func() error {
		response, err := postForm(endpoints.Revocation, url.Values{"token": {token.RefreshToken}, "token_type_hint": {"refresh_token"}})
		if err != nil {
			return err
		}
		response.Body.Close()
		if response.StatusCode != http.StatusOK {
			return fmt.Errorf("revocation: HTTP %d", response.StatusCode)
		}
		info, err := introspect(endpoints.Introspection, token.RefreshToken)
		if err != nil {
			return err
		}
		if info["active"] != false {
			return fmt.Errorf("still active: %v", info)
		}
		stale := &oauth2.Token{RefreshToken: token.RefreshToken, Expiry: time.Now().Add(-time.Hour)}
		_, err = config.TokenSource(ctx, stale).Token()
		return expectCode(err, "invalid_grant")
	})
	check("bad code -> invalid_grant", func() error {
		_, err := config.Exchange(ctx, "not-a-real-code", oauth2.VerifierOption(oauth2.GenerateVerifier()))
		return expectCode(err, "invalid_grant")
	})

	fmt.Printf("go-oidc: %d passed, %d failed\n", passed, failed)
	if failed > 0 {
		os.Exit(1)
	}
}
