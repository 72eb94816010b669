"""The reviewer console in headless Chromium, driven by Selenium through Debian's chromedriver.

scripts/browser-test runs this against a live `gate-api serve` (EMAIL_DELIVERY=outbox,
background workers on) with throwaway Postgres and Redis, and passes in:

  BROWSER_TEST_BASE_URL        http://127.0.0.1:PORT of the server
  BROWSER_TEST_SCREENSHOT_DIR  where the screenshots (NN-name.png) go
  GATE_API_BIN                 the gate-api binary; with the server's environment it mints
                               sign-in links (`gate-api console link`)
  BROWSER_TEST_AGENT_KEY       workspace acme, jobs:write/read, acting for agent-bot
  BROWSER_TEST_OWN_KEY         workspace acme, jobs:write/read, acting for the reviewer herself
  BROWSER_TEST_ADMIN_KEY       workspace acme, every grantable scope (approvals and audit reads)
  BROWSER_TEST_OTHER_KEY       workspace globex (the reviewer is no member), every scope
  BROWSER_TEST_OIDC_ISSUER     the identity provider the server signs people in with
                               (scripts/oidc_stand_in.py), which knows the reviewer as #login-rita

The server's environment (DATABASE_URL, JWT_SECRET, …) is inherited, so `run.cli(…)` runs
the CLI as an operator would: to make workspaces and keys, or mint a JWT.

`python -m browser_test [SCENARIO...]` (with scripts/ on PYTHONPATH) runs the scenarios
named (all by default, in the order __main__.py lists them); `--list` names them. Each
scenario is a function that takes the Run: `run.signed_in()` gives a browser with a
reviewer's session (`sub=`, `ws=` for someone else; `downloads=True` for one that saves
downloads into `b.downloads`, see `b.downloaded(pattern)`), `run.browser()` a fresh one,
`run.api` the HTTP API, `b.shot(name)` a numbered screenshot of the whole page
(`max_height=` to keep only its top). Browsers are closed after their scenario; a failing
scenario leaves failure-<scenario>-<n>.png/.html beside the screenshots and the others
still run.
scripts/console-screenshots copies some of the screenshots into docs/console/.

The package, a module an idea:

  checks.py     Failure, check and wait_until
  browser.py    Browser: headless Chromium through Selenium (options, downloads, page
                and network reads, screenshots at phone width, the console's sign-in)
  harness.py    the run: the servers and keys it is given, the CLI, the HTTP API (Api),
                the numbered screenshots, and the main loop over the scenarios
  identity.py   who gets in: sign_in, sign_out, foreign_workspace, oidc_sign_in
  review.py     deciding one approval: approve, reject, refusals, live_update
  files.py      attachments: a gmail.send with files, previewed, downloaded, approved and
                read back from the outbox by Python's email package
  bulk.py       bulk_approve
  records.py    compliance (the audit log and its exports) and admin (policies, API keys)
  __main__.py   the scenarios in the order they run
"""
