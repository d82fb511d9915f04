package main

import (
	"cmp"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"slices"
	"strconv"
	"time"

	"github.com/portico-dev/portico/sdk"
	"github.com/portico-dev/portico/sdk/abi"
)

// How long what was read from the ERP serves again (docs/financeiro.md,
// "What the plugin keeps"):
//
//   - snapshotTTL: the customer's list of contracts, on every path, and
//     the installments of the home card. A new or transferred contract
//     shows up to 2 minutes late; what it costs a slow ERP (two requests)
//     goes to the installments instead.
//   - pageFreshness: installments the page and the simulation use as they
//     are. A customer reloading the page over and over (or a script doing
//     it with their session) reads the ERP at most that often, so one
//     person cannot spend the company's ERP quota for everyone.
//   - installmentsTTL: installments the page could not read again in time
//     (the ERP slow, the call's time spent) are still shown when read less
//     than this ago, rather than as "not loaded". A paid installment then
//     shows as open for 2 minutes at most, as the card always allowed; a
//     slip is never issued from them (the issue reads its installment from
//     the ERP, and the ERP refuses an installment paid meanwhile).
const (
	snapshotTTL     = 2 * time.Minute
	pageFreshness   = 15 * time.Second
	installmentsTTL = 2 * time.Minute
)

// plan says what a call needs of the customer's installments.
type plan struct {
	// fresh: installments read less than this ago are used as they are;
	// older ones are read again (0: always).
	fresh time.Duration
	// others: read the installments of every contract older than fresh,
	// as the call's time allows (the page, the card). Without it only
	// chosen is, and the others only if a list is drawn after all (an
	// error view), as the page would.
	others bool
	// chosen is the contract a form names (simulate, issue): read first,
	// and when it cannot be read the call fails whole.
	chosen string
}

var (
	pagePlan = plan{fresh: pageFreshness, others: true}
	cardPlan = plan{fresh: snapshotTTL, others: true}
)

// loadInstallments fills ss.contracts' installments, contract by
// contract, as p asks and the call's time allows, and marks the contracts
// it could not load in ss.pending. It returns the view to show instead
// when nothing useful could be read: the chosen contract failed, or every
// contract did.
//
// One request at a time: a guest's host call blocks its only thread
// (host_call is a synchronous import, and Go's wasip1 port runs every
// goroutine on that thread), and the SDK has no asynchronous request, so
// reading contracts from goroutines would still send them one after
// another.
func (ss *session) loadInstallments(p plan) *sdk.View {
	ss.pending = map[string]bool{}
	var which []int
	for i, ct := range ss.contracts {
		if p.others || ct.ID == p.chosen {
			which = append(which, i)
		} else {
			// Loaded only if a list is drawn (an error view): the issue
			// and the simulation need their own contract alone.
			ss.unread = append(ss.unread, i)
		}
	}
	failed, chosenFailed := ss.load(p, which)
	switch {
	case failed == nil:
	case chosenFailed, len(ss.pending) == len(which):
		// What the customer asked about cannot be answered from anything
		// older; or nothing useful at all: the list alone is not what the
		// page is for.
		return erpFailure(ss.c, failed)
	default:
		ss.logPartial(failed)
	}
	return nil
}

// readUnread loads the contracts loadInstallments left aside, as the page
// would, when a list is drawn after all.
func (ss *session) readUnread() {
	which := ss.unread
	ss.unread = nil
	if len(which) == 0 {
		return
	}
	if failed, _ := ss.load(pagePlan, which); failed != nil {
		ss.logPartial(failed)
	}
	t := today()
	for _, i := range which {
		markOverdue(&ss.contracts[i], t)
	}
}

// logPartial tells the gestor why some contracts were not loaded.
func (ss *session) logPartial(failed error) {
	logERP(ss.c, failed)
	if len(ss.pending) > 0 {
		ss.c.Log().Warn("some contracts' installments were not loaded: the page says so and offers to try again",
			"loaded", strconv.Itoa(len(ss.contracts)-len(ss.pending)), "contracts", strconv.Itoa(len(ss.contracts)))
	}
}

// load reads the installments of the contracts at indexes which, from the
// store or the ERP as p asks, until a request fails or no longer fits in
// the call's time (clock.go); those it could not load are pending. It
// returns why it stopped, and whether that was p.chosen's failure.
func (ss *session) load(p plan, which []int) (failed error, chosenFailed bool) {
	c := ss.c
	type state struct {
		i     int
		age   time.Duration
		found bool
	}
	states := make([]state, 0, len(which))
	for _, i := range which {
		ins, at, ok := loadInstallmentsKept(c, ss.s.erpURL, ss.contracts[i].ID)
		states = append(states, state{i: i, found: ok, age: now().Sub(at)})
		if ok {
			ss.contracts[i].Installments = ins
		}
	}
	// What to read, in order: the contract the form names, then those
	// never read (or too long ago to show), then the oldest of the rest,
	// so that a customer who presses "Tentar novamente" after a slow page
	// gets the contracts that page could not load.
	var order, rest []state
	for _, st := range states {
		switch {
		case ss.contracts[st.i].ID == p.chosen:
			if !st.found || p.fresh == 0 || st.age >= p.fresh {
				order = append(order, st)
			}
		case st.found && st.age < p.fresh:
		default:
			rest = append(rest, st)
		}
	}
	slices.SortStableFunc(rest, func(a, b state) int {
		if a.found != b.found {
			if !a.found {
				return -1
			}
			return 1
		}
		return cmp.Compare(b.age, a.age)
	})
	order = append(order, rest...)

	read := map[int]bool{}
	for _, st := range order {
		ct := &ss.contracts[st.i]
		if ct.ID != p.chosen && !ss.clock.fits() {
			failed = ss.clock.tooSlow()
			break
		}
		ins, err := ss.erp.Installments(*ct)
		if err != nil {
			// The call's time is spent (the host ended the request before
			// its deadline) or the ERP failed: ask nothing more, write
			// nothing more (but what the clock learned), and draw what was
			// read.
			failed, chosenFailed = err, ct.ID == p.chosen
			break
		}
		ct.Installments = ins
		read[st.i] = true
		keepInstallments(c, ss.s.erpURL, ct.ID, ins)
	}
	for _, st := range states {
		if read[st.i] || (st.found && st.age < installmentsTTL && !(chosenFailed && ss.contracts[st.i].ID == p.chosen)) {
			continue
		}
		ss.contracts[st.i].Installments = nil
		ss.pending[ss.contracts[st.i].ID] = true
	}
	return failed, chosenFailed
}

// snapshot is the customer's contracts (without installments) as last
// read, kept in the plugin's KV store in the bucket of a hash of the
// document (never the document itself), which it names (Owner).
type snapshot struct {
	// Version 2 holds no installments (they are kept per contract);
	// an entry of an earlier version is read again from the ERP.
	Version   int        `json:"v"`
	Owner     string     `json:"owner"`
	At        time.Time  `json:"at"`
	Contracts []Contract `json:"contracts"`
}

const snapshotVersion = 2

// snapshotOwner is the hash of document that names its snapshot.
func snapshotOwner(document string) string {
	h := sha256.Sum256([]byte("contracts/v1\x00" + document))
	return hex.EncodeToString(h[:16])
}

func snapshotKey(owner string) string {
	return "contracts:" + strconv.Itoa(bucketOf(owner, snapshotBuckets))
}

// loadSnapshot returns the contracts read for document less than maxAge
// ago, if any.
func loadSnapshot(c *sdk.Context, document string, maxAge time.Duration) ([]Contract, bool) {
	owner := snapshotOwner(document)
	raw, found, err := c.KV().Get(snapshotKey(owner))
	if err != nil || !found {
		return nil, false
	}
	var s snapshot
	if json.Unmarshal(raw, &s) != nil || s.Owner != owner || s.Version != snapshotVersion {
		return nil, false
	}
	if age := now().Sub(s.At); age < 0 || age > maxAge {
		return nil, false
	}
	for i := range s.Contracts {
		s.Contracts[i].Installments = nil
	}
	return s.Contracts, true
}

// saveSnapshot keeps the contracts for the next calls; a list too large
// for a KV value is not kept (the next call reads the ERP).
func saveSnapshot(c *sdk.Context, document string, contracts []Contract) {
	owner := snapshotOwner(document)
	dropLegacy(c, "contracts:"+owner)
	list := make([]Contract, len(contracts))
	for i, ct := range contracts {
		ct.Installments = nil
		list[i] = ct
	}
	b, err := json.Marshal(snapshot{Version: snapshotVersion, Owner: owner, At: now(), Contracts: list})
	if err != nil || len(b) > abi.MaxKVValue {
		return
	}
	if err := c.KV().Set(snapshotKey(owner), b); err != nil {
		c.Log().Warn("keeping the contracts failed", "error", err.Error())
	}
}

// The installments of each contract are kept in one of
// installmentBuckets keys ("parcelas:<n>", the bucket of a hash of the
// ERP's URL and the contract's ID, which the value names), written as
// soon as they are read. An entry of up to maxKeptInstallments bytes is
// kept (about 350 installments): with the other entries, the store never
// holds more than about 9 of its 16 MiB, and a contract of more
// installments is simply read every time.
const (
	installmentBuckets  = 512
	maxKeptInstallments = 16 << 10
)

// keptContract is one contract's installments as kept: open ones in full,
// paid ones by their ID alone (the page counts them, and a form naming
// one is told it is paid).
type keptContract struct {
	Owner        string            `json:"owner"`
	At           time.Time         `json:"at"`
	Installments []keptInstallment `json:"i"`
}

type keptInstallment struct {
	ID     string `json:"i"`
	Open   bool   `json:"o,omitempty"`
	Number string `json:"n,omitempty"`
	Due    string `json:"d,omitempty"` // YYYY-MM-DD
	Amount int64  `json:"a,omitempty"` // cents
}

// installmentsOwner names a contract's entry: a contract of another ERP
// (the gestor changed erp_url) is another entry.
func installmentsOwner(erpURL, contractID string) string {
	h := sha256.Sum256([]byte("installments/v1\x00" + erpURL + "\x00" + contractID))
	return hex.EncodeToString(h[:16])
}

func installmentsKey(owner string) string {
	return "parcelas:" + strconv.Itoa(bucketOf(owner, installmentBuckets))
}

// loadInstallmentsKept returns a contract's installments as kept, and
// when they were read from the ERP. A KV failure is an absent entry.
func loadInstallmentsKept(c *sdk.Context, erpURL, contractID string) ([]Installment, time.Time, bool) {
	owner := installmentsOwner(erpURL, contractID)
	raw, found, err := c.KV().Get(installmentsKey(owner))
	if err != nil || !found {
		return nil, time.Time{}, false
	}
	var k keptContract
	if json.Unmarshal(raw, &k) != nil || k.Owner != owner || now().Before(k.At) {
		return nil, time.Time{}, false
	}
	out := make([]Installment, 0, len(k.Installments))
	for _, ki := range k.Installments {
		in := Installment{ID: ki.ID, Open: ki.Open}
		if ki.Open {
			due, err := time.Parse(time.DateOnly, ki.Due)
			if err != nil {
				return nil, time.Time{}, false
			}
			in.Number, in.Due, in.Amount = ki.Number, due, ki.Amount
		}
		out = append(out, in)
	}
	return out, k.At, true
}

// keepInstallments writes a contract's installments just read; one too
// large is not kept.
func keepInstallments(c *sdk.Context, erpURL, contractID string, ins []Installment) {
	owner := installmentsOwner(erpURL, contractID)
	k := keptContract{Owner: owner, At: now(), Installments: make([]keptInstallment, 0, len(ins))}
	for _, in := range ins {
		ki := keptInstallment{ID: in.ID, Open: in.Open}
		if in.Open {
			ki.Number, ki.Due, ki.Amount = in.Number, in.Due.Format(time.DateOnly), in.Amount
		}
		k.Installments = append(k.Installments, ki)
	}
	b, err := json.Marshal(k)
	if err != nil || len(b) > maxKeptInstallments {
		return
	}
	if err := c.KV().Set(installmentsKey(owner), b); err != nil {
		c.Log().Warn("keeping a contract's installments failed", "error", err.Error())
	}
}
