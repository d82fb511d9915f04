package main

import (
	"context"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"sync"
	"time"
)

// The launch exchange row: the demo's example app plugin ("exemplo", an
// iframe plugin with token authentication) and the file in which `serve
// --demo` hands its client credentials to the app (internal/demo).
const (
	exchangePath      = "/api/v1/launch/exchange"
	exchangeSlug      = "exemplo"
	exchangeCredsFile = "exampleapp.json"
	exchangeConns     = 16
	// tokensPerSecond is how many launch tokens are minted for each
	// second of an exchange run: above any rate one core reaches. When a
	// run uses them all before its end, the wrk script stops it (a token
	// is single-use: sending one again would be a refused exchange), and
	// the rate is over the shorter run.
	tokensPerSecond = 12_000
)

// tokenField finds the launch token in the launch document
// (host/launch/templates/launch.html).
var tokenField = regexp.MustCompile(`name="portico_token" value="([A-Za-z0-9_.-]+)"`)

// exchangeCreds reads the example app's client credentials from pt's data
// directory and returns its HTTP Basic Authorization header.
func exchangeCreds(pt *portal) (string, error) {
	raw, err := os.ReadFile(filepath.Join(pt.dataDir, exchangeCredsFile))
	if err != nil {
		return "", fmt.Errorf("the demo's example app credentials: %w", err)
	}
	var c struct {
		ClientID     string `json:"client_id"`
		ClientSecret string `json:"client_secret"`
	}
	if err := json.Unmarshal(raw, &c); err != nil || c.ClientID == "" || c.ClientSecret == "" {
		return "", fmt.Errorf("%s: no client_id and client_secret (%v)", exchangeCredsFile, err)
	}
	return "Basic " + base64.StdEncoding.EncodeToString([]byte(c.ClientID+":"+c.ClientSecret)), nil
}

// mintTokens has n launch tokens minted by pt, as the demo cliente opening
// the example app (GET /p/exemplo/launch), from 16 clients at once.
func mintTokens(ctx context.Context, pt *portal, n int) ([]string, error) {
	tokens := make([]string, n)
	var next int
	var mu sync.Mutex
	errs := make([]error, exchangeConns)
	var wg sync.WaitGroup
	for w := range exchangeConns {
		wg.Go(func() {
			for {
				mu.Lock()
				i := next
				next++
				mu.Unlock()
				if i >= n || ctx.Err() != nil {
					return
				}
				tok, err := mintOne(ctx, pt)
				if err != nil {
					errs[w] = err
					return
				}
				tokens[i] = tok
			}
		})
	}
	wg.Wait()
	if err := errors.Join(errs...); err != nil {
		return nil, fmt.Errorf("mint launch tokens: %w", err)
	}
	return tokens, ctx.Err()
}

// mintOne asks pt for one launch document and returns its token.
func mintOne(ctx context.Context, pt *portal) (string, error) {
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, pt.base+"/p/"+exchangeSlug+"/launch", nil)
	if err != nil {
		return "", err
	}
	req.AddCookie(&http.Cookie{Name: sessionCookie, Value: pt.cookie})
	res, err := httpClient.Do(req)
	if err != nil {
		return "", err
	}
	defer res.Body.Close()
	body, err := io.ReadAll(io.LimitReader(res.Body, 64<<10))
	if err != nil {
		return "", err
	}
	m := tokenField.FindSubmatch(body)
	if res.StatusCode != http.StatusOK || m == nil {
		return "", fmt.Errorf("GET /p/%s/launch: status %d without a token: %.200s", exchangeSlug, res.StatusCode, body)
	}
	return string(m[1]), nil
}

// exchangeScript writes a wrk script that exchanges each of tokens once,
// in order, with authz, and stops wrk before it runs out of them, and
// returns its path. Every token is a line of its own file, read once.
func (r *runner) exchangeScript(tokens []string, authz string) (string, error) {
	dir, err := os.MkdirTemp(r.tmp, "exchange-")
	if err != nil {
		return "", err
	}
	list := filepath.Join(dir, "tokens.txt")
	if err := os.WriteFile(list, []byte(strings.Join(tokens, "\n")+"\n"), 0o600); err != nil {
		return "", fmt.Errorf("write the tokens: %w", err)
	}
	script := filepath.Join(dir, "exchange.lua")
	// The last exchangeConns tokens are the margin for the requests in
	// flight when the script stops the thread.
	lua := fmt.Sprintf(`-- Written by bench/load: each launch token exchanged once.
local tokens = {}
for line in io.lines(%q) do tokens[#tokens + 1] = line end
local stopAt = #tokens - %d
local n = 0
local headers = {["Content-Type"] = "application/json", ["Authorization"] = %q}
request = function()
  n = n + 1
  if n >= stopAt then wrk.thread:stop() end
  return wrk.format("POST", %q, headers, '{"token":"' .. tokens[n] .. '"}')
end
`, list, exchangeConns, authz, exchangePath)
	if err := os.WriteFile(script, []byte(lua), 0o600); err != nil {
		return "", fmt.Errorf("write the wrk script: %w", err)
	}
	return script, nil
}

// exchangeRun is an exchange run ready to start: its tokens minted and
// its wrk script written.
type exchangeRun struct {
	pt     *portal
	d      time.Duration
	tokens int
	script string
}

// prepareExchange mints enough tokens for a run of d against pt and
// writes the script that exchanges them.
func (r *runner) prepareExchange(ctx context.Context, pt *portal, d time.Duration) (*exchangeRun, error) {
	authz, err := exchangeCreds(pt)
	if err != nil {
		return nil, err
	}
	n := int(d.Seconds()*tokensPerSecond) + exchangeConns
	start := time.Now()
	tokens, err := mintTokens(ctx, pt, n)
	if err != nil {
		return nil, err
	}
	r.log("minted %d launch tokens in %s", n, time.Since(start).Round(100*time.Millisecond))
	script, err := r.exchangeScript(tokens, authz)
	if err != nil {
		return nil, err
	}
	return &exchangeRun{pt: pt, d: d, tokens: n, script: script}, nil
}

// run exchanges the tokens with wrk from exchangeConns connections on the
// load core, as plugins' back ends would: every answer must be 200.
func (e *exchangeRun) run(ctx context.Context, r *runner) (wrkRun, error) {
	w, err := r.wrkWith(ctx, e.pt.base+exchangePath, e.pt.p.cmd.Process.Pid, exchangeConns, e.d, "-s", e.script)
	if err == nil && w.Requests >= int64(e.tokens-2*exchangeConns) {
		// wrk divides by the whole duration even when the script stopped
		// it early: the rate would be too low.
		err = fmt.Errorf("the exchange run used all %d tokens before its end: raise tokensPerSecond", e.tokens)
	}
	return w, err
}
