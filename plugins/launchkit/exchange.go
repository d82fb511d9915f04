package launchkit

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"time"
)

// Step 2 of a launch: exchange the token over the back channel (server to
// server, never from the browser) for the user's data. The portal accepts a
// token exactly once, so a token copied from a browser or a log and
// replayed is refused with token_used.

// User is the exchange's answer. Each profile field is present only when
// the gestor granted it to this plugin (Portico admin → plugin → Acesso).
type User struct {
	ID       string  `json:"id"` // the token's sub: opaque and stable
	Name     *string `json:"name"`
	Email    *string `json:"email"`
	Document *string `json:"document"`
	Phone    *string `json:"phone"`
	Role     string  `json:"role"`
	Locale   string  `json:"locale"`
	Tenant   string  `json:"tenant"`
}

// Exchanger calls POST {portal}/api/v1/launch/exchange with the plugin's
// client credentials (HTTP Basic).
type Exchanger struct {
	URL          string
	ClientID     string
	ClientSecret string
	HTTP         *http.Client
}

// maxExchangeAnswer bounds what we read from the portal.
const maxExchangeAnswer = 64 << 10

// Exchange redeems token. A *TokenError carries the portal's code
// (token_expired, token_used, token_invalid, wrong_audience,
// invalid_client); any other error means the portal could not be asked.
func (x *Exchanger) Exchange(ctx context.Context, token string) (*User, error) {
	body, _ := json.Marshal(map[string]string{"token": token})
	ctx, cancel := context.WithTimeout(ctx, 10*time.Second)
	defer cancel()
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, x.URL, bytes.NewReader(body))
	if err != nil {
		return nil, fmt.Errorf("build exchange request: %w", err)
	}
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("Accept", "application/json")
	req.SetBasicAuth(x.ClientID, x.ClientSecret)
	res, err := x.HTTP.Do(req)
	if err != nil {
		return nil, fmt.Errorf("call the exchange: %w", err)
	}
	defer res.Body.Close()
	raw, err := io.ReadAll(io.LimitReader(res.Body, maxExchangeAnswer))
	if err != nil {
		return nil, fmt.Errorf("read the exchange answer: %w", err)
	}
	if res.StatusCode == http.StatusOK {
		var u User
		if err := json.Unmarshal(raw, &u); err != nil || u.ID == "" {
			return nil, fmt.Errorf("exchange answer is not a user: %.200s", raw)
		}
		return &u, nil
	}
	var e struct {
		Error struct {
			Code    string `json:"code"`
			Message string `json:"message"`
		} `json:"error"`
	}
	if json.Unmarshal(raw, &e) == nil && e.Error.Code != "" && res.StatusCode == http.StatusUnauthorized {
		return nil, refuse(e.Error.Code, errors.New(e.Error.Message))
	}
	return nil, fmt.Errorf("exchange answered %d: %.200s", res.StatusCode, raw)
}
