package main

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"html"
	"io"
	"net"
	"net/http"
	"regexp"
	"strconv"
	"strings"
	"syscall"
	"time"
)

// maxBody bounds what the harness reads of any answer.
const maxBody = 2 << 20

// requestTimeout bounds every request of the harness.
const requestTimeout = 20 * time.Second

// newHTTPClient returns a client that keeps up to conns connections per
// host open, never follows redirects (a 303 is an answer to check) and
// gives up on a request after requestTimeout.
func newHTTPClient(conns int) *http.Client {
	tr := &http.Transport{
		Proxy:                 nil,
		DialContext:           (&net.Dialer{Timeout: 3 * time.Second, KeepAlive: 30 * time.Second}).DialContext,
		MaxIdleConns:          conns * 4,
		MaxIdleConnsPerHost:   conns,
		IdleConnTimeout:       30 * time.Second,
		ResponseHeaderTimeout: requestTimeout,
		DisableCompression:    true,
	}
	return &http.Client{Transport: tr, Timeout: requestTimeout,
		CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
}

// call is one request to make.
type call struct {
	method, url string
	host        string // Host header, when not the URL's
	header      http.Header
	body        any // JSON-encoded when not nil
}

// answer is what came back.
type answer struct {
	status int
	header http.Header
	body   []byte
	err    error // transport error (status 0)
	dur    time.Duration
}

// do sends c and reads the answer.
func do(ctx context.Context, client *http.Client, c call) answer {
	var rd io.Reader
	if c.body != nil {
		b, err := json.Marshal(c.body)
		if err != nil {
			return answer{err: err}
		}
		rd = bytes.NewReader(b)
	}
	req, err := http.NewRequestWithContext(ctx, c.method, c.url, rd)
	if err != nil {
		return answer{err: err}
	}
	for k, v := range c.header {
		req.Header[k] = v
	}
	if c.body != nil {
		req.Header.Set("Content-Type", "application/json")
	}
	if c.host != "" {
		req.Host = c.host
	}
	start := time.Now()
	res, err := client.Do(req)
	if err != nil {
		return answer{err: err, dur: time.Since(start)}
	}
	defer res.Body.Close()
	body, err := io.ReadAll(io.LimitReader(res.Body, maxBody))
	a := answer{status: res.StatusCode, header: res.Header, body: body, dur: time.Since(start)}
	if err != nil {
		a.err = err
	}
	return a
}

// apiError is Portico's error body.
type apiError struct {
	Error struct {
		Code    string `json:"code"`
		Message string `json:"message"`
	} `json:"error"`
}

// titleRE finds an HTML page's title (nginx's error pages, Portico's).
var titleRE = regexp.MustCompile(`(?is)<title>(.{0,200}?)</title>`)

// paragraphRE finds a page's first paragraph; tagRE its tags.
var (
	paragraphRE = regexp.MustCompile(`(?is)<p(?:\s[^>]*)?>(.{0,400}?)</p>`)
	tagRE       = regexp.MustCompile(`<[^>]*>`)
)

// describe classifies an answer that was not the expected one: a short
// class to count it under and a detail (the message) to show once.
func (a answer) describe() (class, detail string) {
	if a.err != nil && a.status == 0 {
		return "transport: " + transportClass(a.err), clip(a.err.Error(), 200)
	}
	var e apiError
	if json.Unmarshal(a.body, &e) == nil && e.Error.Code != "" {
		return fmt.Sprintf("%d %s", a.status, e.Error.Code), clip(e.Error.Message, 200)
	}
	from := "portico"
	// nginx's own error pages end with <center>nginx</center> (it also
	// sets Server: nginx on every answer it proxies, so that says nothing).
	if strings.Contains(string(a.body), "<center>nginx") {
		from = "nginx"
	}
	detail = strings.TrimSpace(string(a.body))
	if m := titleRE.FindSubmatch(a.body); m != nil {
		detail = html.UnescapeString(strings.TrimSpace(string(m[1])))
		// A page's first paragraph says what happened (a page without the
		// tenant has only the status as its title).
		if p := paragraphRE.FindSubmatch(a.body); p != nil {
			if text := html.UnescapeString(strings.Join(strings.Fields(tagRE.ReplaceAllString(string(p[1]), " ")), " ")); text != "" {
				detail += " — " + text
			}
		}
	}
	if a.status >= 300 && a.status < 400 {
		detail = "Location: " + a.header.Get("Location")
	}
	return fmt.Sprintf("%d (%s)", a.status, from), clip(detail, 200)
}

// transportClass names a transport error's kind.
func transportClass(err error) string {
	var ne net.Error
	switch {
	case errors.Is(err, syscall.ECONNREFUSED):
		return "connection refused"
	case errors.Is(err, syscall.ECONNRESET):
		return "connection reset"
	case errors.Is(err, io.EOF), errors.Is(err, io.ErrUnexpectedEOF):
		return "connection closed before the answer (EOF)"
	case errors.Is(err, context.DeadlineExceeded), errors.As(err, &ne) && ne.Timeout():
		return "timeout"
	case errors.Is(err, context.Canceled):
		return "canceled"
	}
	return "other"
}

// clip bounds s to n bytes, on a rune boundary.
func clip(s string, n int) string {
	if len(s) <= n {
		return s
	}
	for n > 0 && !isRuneStart(s[n]) {
		n--
	}
	return s[:n] + "…"
}

func isRuneStart(b byte) bool { return b&0xC0 != 0x80 }

// session is a logged-in customer.
type session struct {
	email  string
	userID string
	cookie string // portico_session=…
}

func (s *session) header() http.Header { return http.Header{"Cookie": {s.cookie}} }

// sessionCookie returns the portico_session cookie an answer set.
func sessionCookie(h http.Header) string {
	for _, line := range h.Values("Set-Cookie") {
		if c, err := http.ParseSetCookie(line); err == nil && c.Name == "portico_session" && c.Value != "" {
			return c.Name + "=" + c.Value
		}
	}
	return ""
}

// tokenRE finds the launch token in the launch page's form.
var tokenRE = regexp.MustCompile(`name="portico_token" value="([A-Za-z0-9_\-.]+)"`)

// maxToken bounds a launch token (Portico's own bound is 4 KiB).
const maxToken = 4096

// launchToken extracts the launch token from the launch page's HTML.
func launchToken(page []byte) (string, bool) {
	m := tokenRE.FindSubmatch(page)
	if m == nil {
		return "", false
	}
	tok := string(m[1])
	if len(tok) > maxToken || strings.Count(tok, ".") != 2 {
		return "", false
	}
	return tok, true
}

// visitRE finds the hello plugin's visit count on its page.
var visitRE = regexp.MustCompile(`visita nº (\d{1,12})\.`)

// visitNumber extracts the visit count the hello plugin showed.
func visitNumber(page []byte) (int64, bool) {
	m := visitRE.FindSubmatch(page)
	if m == nil {
		return 0, false
	}
	n, err := strconv.ParseInt(string(m[1]), 10, 64)
	return n, err == nil && n > 0
}

// portalSession is the answer to POST /api/v1/portal/sessions.
type portalSession struct {
	ID       string `json:"id"`
	AuthURL  string `json:"auth_url"`
	Customer struct {
		ID string `json:"id"`
	} `json:"customer"`
}

// pathOf returns the path (and query) of an absolute URL the portal
// built, so it can be sent to any node or to nginx.
func pathOf(raw string) (string, bool) {
	i := strings.Index(raw, "://")
	if i < 0 {
		return "", false
	}
	rest := raw[i+3:]
	j := strings.IndexByte(rest, '/')
	if j < 0 {
		return "", false
	}
	return rest[j:], true
}

// view is a wasm plugin's view as the JSON API answers it.
type view struct {
	View struct {
		Blocks []struct {
			Type   string `json:"type"`
			Text   string `json:"text"`
			Tone   string `json:"tone"`
			Fields []struct {
				Name    string `json:"name"`
				Options []struct {
					Value string `json:"value"`
				} `json:"options"`
			} `json:"fields"`
			Items []struct {
				Label string `json:"label"`
				Value string `json:"value"`
			} `json:"items"`
		} `json:"blocks"`
	} `json:"view"`
}

// slipOf reads an issued segunda via from the finance plugin's answer:
// its nosso número, or the alert it showed instead.
func slipOf(body []byte) (ourNumber, alert string, ok bool) {
	var v view
	if err := json.Unmarshal(body, &v); err != nil {
		return "", "unreadable view", false
	}
	success := false
	for _, b := range v.View.Blocks {
		if b.Type == "alert" {
			if b.Tone == "success" {
				success = true
			} else if alert == "" {
				alert = b.Text
			}
		}
		for _, it := range b.Items {
			if it.Label == "Nosso número" {
				ourNumber = it.Value
			}
		}
	}
	if !success || ourNumber == "" {
		if alert == "" {
			alert = "no success alert"
		}
		return "", alert, false
	}
	return ourNumber, "", true
}

// jsonInto decodes JSON into v and reports whether it could.
func jsonInto(b []byte, v any) bool { return json.Unmarshal(b, v) == nil }
