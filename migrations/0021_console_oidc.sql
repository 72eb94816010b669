-- Console sign-in through the company's identity provider (OpenID Connect, authorization
-- code with PKCE; issue 25). One row per sign-in under way, from the redirect to the
-- provider until its callback: looked up by the SHA-256 of `state` and deleted when used,
-- so a callback is accepted once. The browser that started it holds `state` in a cookie.
CREATE TABLE console_oidc_logins (
    state_hash bytea PRIMARY KEY CHECK (length(state_hash) = 32),
    nonce text NOT NULL,
    -- The PKCE verifier: useless without the provider's one-time code, and gone within minutes.
    code_verifier text NOT NULL,
    created_at timestamptz NOT NULL DEFAULT now(),
    expires_at timestamptz NOT NULL
);
CREATE INDEX console_oidc_logins_expiry ON console_oidc_logins (expires_at);
