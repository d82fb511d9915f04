package storage

import (
	"context"
	"crypto/hmac"
	"crypto/sha256"
	"database/sql/driver"
	"errors"
	"fmt"
	"hash"
	"math/rand/v2"
	"time"

	"github.com/portico-dev/portico/internal/auth"
)

// ThrottleHold is how long a reservation (auth.Limiter.Reserve) holds its
// place when it is never settled, because the node that took it crashed
// between the reservation and the answer: it lapses 30 to 60 seconds after
// it was taken (at the end of the 30-second period after the one it was
// taken in). A login settles its reservations within a second or two; the
// server's write timeout is 30 seconds.
const ThrottleHold = 30 * time.Second

// ThrottleOptions configure Store.Throttle.
type ThrottleOptions struct {
	// Name separates the budgets that share the table ("login-account",
	// "login-ip"…): the same key string in two budgets is two rows.
	Name string
	// Limit is how many failures a key may have in one Window (≥ 1).
	Limit int
	// Window is how long a key's count lasts, from its first attempt.
	Window time.Duration
	// Secret, when set (PORTICO_SECRET_KEY), keys the hash under which
	// keys are stored (HMAC-SHA-256 under a key derived from it), so the
	// table cannot be reversed by hashing every IPv4 address or a list of
	// e-mails. Without it keys are stored as their plain SHA-256. Every
	// node must be given the same Secret to share the budgets.
	Secret []byte
}

// Throttle is an auth.Limiter whose counters live in the database
// (the login_throttle table), so every node sharing the database shares
// one exact budget per key. Each call is one statement: a reservation is
// an UPSERT that takes a place only if the failures plus the attempts in
// flight are under the limit, so concurrent attempts on any number of
// nodes cannot pass the limit together (PostgreSQL locks the key's row
// for the statement; SQLite runs one writer at a time). Keys are stored
// only as a hash (ThrottleOptions.Secret): the table names no e-mail or
// address, and rows go once their window ended (DeleteExpiredThrottles).
//
// Attempts in flight are counted in two buckets of ThrottleHold (the
// current period and the one before), so a reservation its node never
// settled stops counting after ThrottleHold to 2×ThrottleHold. A row also
// carries a random generation (row_id): a reservation taken before a
// Reset releases nothing in the row that replaced it.
type Throttle struct {
	s      *Store
	name   string
	limit  int
	window time.Duration
	mac    func() hash.Hash
}

// Throttle returns the database-backed budget described by o.
func (s *Store) Throttle(o ThrottleOptions) (*Throttle, error) {
	switch {
	case o.Name == "":
		return nil, errors.New("throttle: a name is required")
	case o.Limit < 1:
		return nil, fmt.Errorf("throttle %s: limit %d, want at least 1", o.Name, o.Limit)
	case o.Window <= 0:
		return nil, fmt.Errorf("throttle %s: window %v, want more than zero", o.Name, o.Window)
	}
	t := &Throttle{s: s, name: o.Name, limit: o.Limit, window: o.Window, mac: sha256.New}
	if len(o.Secret) > 0 {
		key := sha256.Sum256(append([]byte("portico-throttle-key-v1\x00"), o.Secret...))
		t.mac = func() hash.Hash { return hmac.New(sha256.New, key[:]) }
	}
	return t, nil
}

var _ auth.Limiter = (*Throttle)(nil)

// keyHash is the stored form of a key: the hash of the budget's name and
// key. It is a driver.Valuer so that GORM binds it as one value where a
// named parameter follows "(" (it expands a plain []byte there into a
// list of its bytes).
type keyHash []byte

// Value implements driver.Valuer.
func (k keyHash) Value() (driver.Value, error) { return []byte(k), nil }

func (t *Throttle) keyHash(key string) keyHash {
	h := t.mac()
	h.Write([]byte(t.name))
	h.Write([]byte{0})
	h.Write([]byte(key))
	return h.Sum(nil)
}

// clock returns now in Unix milliseconds, the end of a window starting
// now, and the hold period now falls in.
func (t *Throttle) clock() (now, end, epoch int64) {
	n := t.s.Now()
	return n.UnixMilli(), n.Add(t.window).UnixMilli(), n.UnixMilli() / ThrottleHold.Milliseconds()
}

// throttleReserve takes a place for a key when its failures (0 once its
// window ended) plus its live reservations are under the limit. The row's
// hold_epoch is the newest period with reservations: holds_cur were taken
// in it, holds_prev in the period before; reservations of older periods
// have lapsed. A node whose clock is a little behind (@epoch below
// hold_epoch) counts into the newest period, so skew drops no live
// reservation. RETURNING gives the row's generation and the period the
// reservation was counted in, which its settlement names.
const throttleReserve = `INSERT INTO login_throttle AS t
    (key_hash, row_id, failures, window_end, hold_epoch, holds_cur, holds_prev)
VALUES (@key, @row_id, 0, @end, @epoch, 1, 0)
ON CONFLICT (key_hash) DO UPDATE SET
    failures   = CASE WHEN t.window_end <= @now THEN 0 ELSE t.failures END,
    window_end = CASE WHEN t.window_end <= @now THEN @end ELSE t.window_end END,
    holds_prev = CASE WHEN t.hold_epoch >= @epoch THEN t.holds_prev
                      WHEN t.hold_epoch = @epoch - 1 THEN t.holds_cur ELSE 0 END,
    holds_cur  = CASE WHEN t.hold_epoch >= @epoch THEN t.holds_cur + 1 ELSE 1 END,
    hold_epoch = CASE WHEN t.hold_epoch >= @epoch THEN t.hold_epoch ELSE @epoch END
WHERE (CASE WHEN t.window_end <= @now THEN 0 ELSE t.failures END)
    + (CASE WHEN t.hold_epoch >= @epoch THEN t.holds_cur + t.holds_prev
            WHEN t.hold_epoch = @epoch - 1 THEN t.holds_cur ELSE 0 END) < @limit
RETURNING row_id, hold_epoch`

// throttleFail counts a failure, starting a new window when the key has
// none or its window ended. A settlement (@settle true) also releases its
// reservation, if the row is still the generation it was taken in and the
// reservation has not lapsed.
const throttleFail = `INSERT INTO login_throttle AS t
    (key_hash, row_id, failures, window_end, hold_epoch, holds_cur, holds_prev)
VALUES (@key, @new_row_id, 1, @end, 0, 0, 0)
ON CONFLICT (key_hash) DO UPDATE SET
    failures   = CASE WHEN t.window_end <= @now THEN 1 ELSE t.failures + 1 END,
    window_end = CASE WHEN t.window_end <= @now THEN @end ELSE t.window_end END,
    holds_cur  = CASE WHEN @settle AND t.row_id = @row_id AND t.hold_epoch = @held
                      AND t.holds_cur > 0 THEN t.holds_cur - 1 ELSE t.holds_cur END,
    holds_prev = CASE WHEN @settle AND t.row_id = @row_id AND t.hold_epoch = @held + 1
                      AND t.holds_prev > 0 THEN t.holds_prev - 1 ELSE t.holds_prev END`

// throttleRelease releases a reservation whose attempt did not fail.
const throttleRelease = `UPDATE login_throttle SET
    holds_cur  = CASE WHEN hold_epoch = @held AND holds_cur > 0 THEN holds_cur - 1 ELSE holds_cur END,
    holds_prev = CASE WHEN hold_epoch = @held + 1 AND holds_prev > 0 THEN holds_prev - 1 ELSE holds_prev END
WHERE key_hash = @key AND row_id = @row_id`

type throttleRow struct {
	RowID     int64
	Failures  int
	WindowEnd int64
	HoldEpoch int64
	HoldsCur  int
	HoldsPrev int
}

// Reserve implements auth.Limiter in one statement; a refusal reads the
// row once more to say how long to wait.
func (t *Throttle) Reserve(ctx context.Context, key string) (*auth.Reservation, error) {
	k := t.keyHash(key)
	now, end, epoch := t.clock()
	var got []throttleRow
	err := t.s.db.WithContext(ctx).Raw(throttleReserve, map[string]any{
		"key": k, "row_id": rand.Int64(), "now": now, "end": end, "epoch": epoch, "limit": t.limit,
	}).Scan(&got).Error
	if err != nil {
		return nil, translate(err, "reserve throttle "+t.name)
	}
	if len(got) == 1 {
		rowID, held := got[0].RowID, got[0].HoldEpoch
		return auth.Granted(func(ctx context.Context, failed bool) error {
			return t.settle(ctx, k, rowID, held, failed)
		}), nil
	}
	row, found, err := t.read(ctx, k)
	if err != nil {
		return nil, err
	}
	if found && row.WindowEnd > now && row.Failures >= t.limit {
		return auth.Refused(time.Duration(row.WindowEnd-now) * time.Millisecond), nil
	}
	return auth.Refused(time.Second), nil // attempts in flight fill the budget: try again shortly
}

func (t *Throttle) settle(ctx context.Context, k keyHash, rowID, held int64, failed bool) error {
	if !failed {
		err := t.s.db.WithContext(ctx).Exec(throttleRelease, map[string]any{"key": k, "row_id": rowID, "held": held}).Error
		return translate(err, "release throttle "+t.name)
	}
	return t.fail(ctx, k, true, rowID, held)
}

func (t *Throttle) fail(ctx context.Context, k keyHash, settle bool, rowID, held int64) error {
	now, end, _ := t.clock()
	err := t.s.db.WithContext(ctx).Exec(throttleFail, map[string]any{
		"key": k, "new_row_id": rand.Int64(), "now": now, "end": end,
		"settle": settle, "row_id": rowID, "held": held,
	}).Error
	return translate(err, "count throttle failure "+t.name)
}

// Fail implements auth.Limiter.
func (t *Throttle) Fail(ctx context.Context, key string) error {
	return t.fail(ctx, t.keyHash(key), false, 0, 0)
}

// Reset implements auth.Limiter. Reservations in flight on key release
// nothing afterwards (the row's generation changed); their failures count
// in the new row.
func (t *Throttle) Reset(ctx context.Context, key string) error {
	err := t.s.db.WithContext(ctx).Exec("DELETE FROM login_throttle WHERE key_hash = ?", t.keyHash(key)).Error
	return translate(err, "reset throttle "+t.name)
}

// Blocked implements auth.Limiter.
func (t *Throttle) Blocked(ctx context.Context, key string) (time.Duration, bool, error) {
	row, found, err := t.read(ctx, t.keyHash(key))
	if err != nil || !found {
		return 0, false, err
	}
	now, _, _ := t.clock()
	if row.WindowEnd > now && row.Failures >= t.limit {
		return time.Duration(row.WindowEnd-now) * time.Millisecond, true, nil
	}
	return 0, false, nil
}

func (t *Throttle) read(ctx context.Context, k keyHash) (throttleRow, bool, error) {
	var got []throttleRow
	err := t.s.db.WithContext(ctx).Raw("SELECT row_id, failures, window_end, hold_epoch, holds_cur, holds_prev FROM login_throttle WHERE key_hash = ?", k).
		Scan(&got).Error
	if err != nil {
		return throttleRow{}, false, translate(err, "read throttle "+t.name)
	}
	if len(got) == 0 {
		return throttleRow{}, false, nil
	}
	return got[0], true, nil
}

// DeleteExpiredThrottles removes the throttle rows (of every budget) whose
// window ended and that hold no live reservation, and returns how many
// went. A swept key starts again from zero, as it would anyway.
func (s *Store) DeleteExpiredThrottles(ctx context.Context) (int64, error) {
	n := s.Now()
	res := s.db.WithContext(ctx).Exec("DELETE FROM login_throttle WHERE window_end <= ? AND hold_epoch < ?",
		n.UnixMilli(), n.UnixMilli()/ThrottleHold.Milliseconds()-1)
	if res.Error != nil {
		return 0, translate(res.Error, "delete expired throttles")
	}
	return res.RowsAffected, nil
}
