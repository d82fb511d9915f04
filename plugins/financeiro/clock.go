package main

import (
	"encoding/json"
	"fmt"
	"strings"
	"time"

	"github.com/portico-dev/portico/sdk"
	"github.com/portico-dev/portico/sdk/abi"
)

// The plugin's time within one call (docs/financeiro.md, "When the ERP is
// slow").
//
// The SDK tells a plugin neither its call's deadline nor its timeout
// (abi.Input carries neither, sdk.Context has no Deadline). What it offers
// is a request without sdk.Request.Timeout, which the host ends
// abi.HTTPReserveMS before the call's deadline (a tenth of the time left
// when it started, 50 to 500 ms), failing it as "did not answer before the
// call's deadline". So:
//
//   - Reading installments, the plugin sends requests without a timeout of
//     their own: the call's real deadline, whatever the gestor set, is the
//     budget, and the host ends a request in time for the plugin to
//     answer.
//   - When the host ends one, the plugin solves the deadline from when the
//     request started and ended (the host's rule, abi.HTTPReserveMS) and
//     keeps it (callTimeKey). Later calls then start a request only if,
//     at the pace of the slowest request so far, it ends renderReserve
//     before that deadline: the host's own reserve is 50 ms when less than
//     half a second is left, too little for a busy machine, while the
//     plugin's is three times that.
//   - The requests that list the customer's contracts are bounded to
//     requestTimeout, so that an ERP that hangs is reported in 1.5 s, as
//     long as a call of minCallTime (the host's default timeout, the
//     shortest the plugin is written for) still has that and renderReserve
//     after it.
const (
	requestTimeout = 1500 * time.Millisecond
	renderReserve  = 150 * time.Millisecond
	minCallTime    = abi.DefaultTimeoutMS * time.Millisecond
	// callTimeTTL is how long a learned deadline is used: a gestor who
	// raises the plugin's timeout sees it used within that time (one who
	// lowers it, at the next request the host ends).
	callTimeTTL = 15 * time.Minute
	callTimeKey = "chamada:prazo"
)

// clock is one call's time.
type clock struct {
	c *sdk.Context
	// started is when the handler began, by the host's monotonic clock
	// (never the tests' fixed now).
	started time.Time
	// slowest is the longest ERP request of this call that answered.
	slowest time.Duration
	learned callTime
	loaded  bool
}

// callTime is a call's length as learned from the host, from the start of
// its handler.
type callTime struct {
	MS int64     `json:"ms"`
	At time.Time `json:"at"`
}

func newClock(c *sdk.Context) *clock { return &clock{c: c, started: time.Now()} }

func (k *clock) elapsed() time.Duration { return time.Since(k.started) }

// callTime returns the call's length as learned less than callTimeTTL ago,
// or 0.
func (k *clock) callTime() time.Duration {
	if !k.loaded {
		k.loaded = true
		if raw, found, err := k.c.KV().Get(callTimeKey); err == nil && found {
			_ = json.Unmarshal(raw, &k.learned)
		}
	}
	if k.learned.MS <= 0 {
		return 0
	}
	if age := now().Sub(k.learned.At); age < 0 || age >= callTimeTTL {
		return 0
	}
	return time.Duration(k.learned.MS) * time.Millisecond
}

// listTimeout is the own bound of a request that lists the contracts.
func (k *clock) listTimeout() time.Duration {
	if k.elapsed()+requestTimeout+renderReserve <= minCallTime {
		return requestTimeout
	}
	return 0
}

// fits reports whether one more request, as slow as the slowest so far,
// would end renderReserve before the call's deadline, when the plugin
// knows it. When it does not, the host's end of the request is the bound.
func (k *clock) fits() bool {
	d := k.callTime()
	return d == 0 || k.elapsed()+k.slowest+renderReserve <= d
}

// tooSlow is why the plugin stopped reading before the deadline.
func (k *clock) tooSlow() error {
	return &erpError{class: errTooSlow, detail: fmt.Sprintf("%s of the call's %s spent, and the slowest ERP request took %s",
		k.elapsed().Round(time.Millisecond), k.callTime(), k.slowest.Round(time.Millisecond))}
}

// observe records a request sent start (elapsed) with its own timeout
// (0: none) that ended now with err.
func (k *clock) observe(start, timeout time.Duration, err error) {
	end := k.elapsed()
	if err == nil {
		k.slowest = max(k.slowest, end-start)
		return
	}
	if timeout > 0 || sdk.Code(err) != abi.ErrUpstream || !strings.Contains(err.Error(), "before the call's deadline") {
		return
	}
	d, ok := solveDeadline(start, end)
	if !ok {
		return
	}
	// Written at once, while the host's reserve lasts, and only when it
	// says something new: calls that stop in time never get here.
	if cur := k.callTime(); cur > 0 && (d-cur).Abs() < 50*time.Millisecond {
		return
	}
	k.learned = callTime{MS: d.Milliseconds(), At: now()}
	if b, err := json.Marshal(k.learned); err == nil {
		if err := k.c.KV().Set(callTimeKey, b); err != nil {
			k.c.Log().Warn("keeping the call's time failed", "error", err.Error())
		}
	}
}

// solveDeadline finds the deadline d (from the handler's start) at which
// the host, by its rule abi.HTTPReserveMS, ends at end a request that
// started at start: end = d − HTTPReserveMS(d − start). The reserve is
// 50 ms, a tenth of the time left, or 500 ms; one of the three fits.
func solveDeadline(start, end time.Duration) (time.Duration, bool) {
	if end <= start {
		return 0, false
	}
	for _, d := range []time.Duration{end + 50*time.Millisecond, (10*end - start) / 9, end + 500*time.Millisecond} {
		reserve := time.Duration(abi.HTTPReserveMS((d - start).Milliseconds())) * time.Millisecond
		if (end + reserve - d).Abs() <= 2*time.Millisecond {
			return d, true
		}
	}
	return 0, false
}
