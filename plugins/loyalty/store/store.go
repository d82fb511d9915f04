// Package store keeps the loyalty programme in its own database: SQLite by
// default, PostgreSQL when configured, the same migrations and the same
// tests on both. Its rules:
//
//   - The ledger is append-only (the database refuses updates and deletes
//     with a trigger) and every movement is one row of it.
//   - A customer's balance is a row updated in the same transaction as the
//     ledger, with CHECK (points >= 0); a redemption is
//     UPDATE … SET points = points - n WHERE points >= n, so a balance never
//     goes negative however many processes redeem at once, and it always
//     equals the sum of the customer's ledger.
//   - Earned points are lots; redemptions, negative adjustments and expiry
//     consume the lots that expire first (those that never expire last).
package store

import (
	"context"
	"crypto/rand"
	"embed"
	"errors"
	"fmt"
	"log/slog"
	"strings"
	"time"

	"github.com/google/uuid"
	"gorm.io/gorm"

	"github.com/portico-dev/portico/internal/sqldb"
	"github.com/portico-dev/portico/plugins/loyalty/points"
)

//go:embed migrations/sqlite/*.sql migrations/postgres/*.sql
var migrationsFS embed.FS

// Errors of the store.
var (
	ErrNotFound     = errors.New("not found")
	ErrInsufficient = errors.New("insufficient balance")
	// ErrDuplicate is a movement whose source key was applied before (a
	// CSV line imported again).
	ErrDuplicate = errors.New("movement already applied")
	// ErrConflict is a customer whose e-mail, document or portal subject
	// another customer has.
	ErrConflict = errors.New("conflict")
)

// Store is the loyalty database.
type Store struct {
	db     *gorm.DB
	driver string
	now    func() time.Time
	log    *slog.Logger
}

// Options tune Open.
type Options struct {
	Logger *slog.Logger
	// Now is the clock; time.Now when nil. Tests move it.
	Now func() time.Time
}

// Open connects to databaseURL (sqlite://PATH or postgres://…, as
// Portico's PORTICO_DATABASE_URL, opened the same way: sqldb.Open) and
// applies the migrations.
func Open(ctx context.Context, databaseURL string, opts Options) (*Store, error) {
	if opts.Logger == nil {
		opts.Logger = slog.Default()
	}
	if opts.Now == nil {
		opts.Now = time.Now
	}
	db, sqlDB, driver, err := sqldb.Open(ctx, databaseURL, sqldb.Options{Now: opts.Now})
	if err != nil {
		return nil, fmt.Errorf("loyalty: %w", err)
	}
	p, err := sqldb.Migrations(sqlDB, driver, migrationsFS, "migrations")
	if err == nil {
		_, err = p.Up(ctx)
	}
	if err != nil {
		_ = sqlDB.Close()
		return nil, fmt.Errorf("migrate the loyalty database: %w", err)
	}
	st := &Store{db: db, driver: driver, now: opts.Now, log: opts.Logger}
	if err := st.fillSearchNames(ctx); err != nil {
		_ = sqlDB.Close()
		return nil, err
	}
	return st, nil
}

// fillSearchNames computes the search name of the customers written
// before the column existed (migration 00003), a batch per transaction,
// in id order; it does nothing once they all have one.
func (s *Store) fillSearchNames(ctx context.Context) error {
	after := ""
	for {
		var cs []Customer
		err := s.db.WithContext(ctx).Select("id", "name").Where("search_name = '' AND name <> '' AND id > ?", after).
			Order("id").Limit(500).Find(&cs).Error
		if err != nil || len(cs) == 0 {
			return translate(err, "fill search names")
		}
		err = s.db.WithContext(ctx).Transaction(func(tx *gorm.DB) error {
			for _, c := range cs {
				if err := tx.Model(&Customer{}).Where("id = ?", c.ID).UpdateColumn("search_name", FoldName(c.Name)).Error; err != nil {
					return err
				}
			}
			return nil
		})
		if err != nil {
			return translate(err, "fill search names")
		}
		after = cs[len(cs)-1].ID
	}
}

// Close closes the database.
func (s *Store) Close() error {
	sqlDB, err := s.db.DB()
	if err != nil {
		return err
	}
	return sqlDB.Close()
}

// Driver is "sqlite" or "postgres".
func (s *Store) Driver() string { return s.driver }

// Now is the store's clock, in UTC.
func (s *Store) Now() time.Time { return s.now().UTC() }

// DB is the GORM handle, for the app's other tables (the CSV imports).
func (s *Store) DB() *gorm.DB { return s.db }

// NewID returns a time-ordered unique id.
func NewID() string { return uuid.Must(uuid.NewV7()).String() }

// isDuplicateKey reports whether err is a unique-constraint violation
// (GORM translates PostgreSQL's; SQLite's keeps its text).
func isDuplicateKey(err error) bool {
	return err != nil && (errors.Is(err, gorm.ErrDuplicatedKey) || strings.Contains(err.Error(), "UNIQUE constraint failed") ||
		strings.Contains(err.Error(), "SQLSTATE 23505"))
}

// translate maps GORM's errors onto the store's.
func translate(err error, what string) error {
	switch {
	case err == nil:
		return nil
	case errors.Is(err, gorm.ErrRecordNotFound):
		return fmt.Errorf("%s: %w", what, ErrNotFound)
	case isDuplicateKey(err):
		return fmt.Errorf("%s: %w", what, ErrConflict)
	}
	return fmt.Errorf("%s: %w", what, err)
}

// settingsRow is the one row of the programme's settings.
type settingsRow struct {
	ID               int
	CentsPerPoint    int64
	Rounding         string
	MinPurchaseCents int64
	ExpiryDays       int
	UpdatedBy        string
	UpdatedAt        time.Time
}

func (settingsRow) TableName() string { return "settings" }

// Settings returns the programme (points.Defaults until a gestor saves it).
func (s *Store) Settings(ctx context.Context) (points.Settings, error) {
	var r settingsRow
	err := s.db.WithContext(ctx).Where("id = 1").Take(&r).Error
	if errors.Is(err, gorm.ErrRecordNotFound) {
		return points.Defaults, nil
	}
	if err != nil {
		return points.Settings{}, translate(err, "settings")
	}
	return points.Settings{CentsPerPoint: r.CentsPerPoint, Rounding: points.Rounding(r.Rounding),
		MinPurchaseCents: r.MinPurchaseCents, ExpiryDays: r.ExpiryDays}, nil
}

// SaveSettings validates and stores the programme.
func (s *Store) SaveSettings(ctx context.Context, p points.Settings, by string) error {
	if err := p.Validate(); err != nil {
		return err
	}
	r := settingsRow{ID: 1, CentsPerPoint: p.CentsPerPoint, Rounding: string(p.Rounding), MinPurchaseCents: p.MinPurchaseCents,
		ExpiryDays: p.ExpiryDays, UpdatedBy: by, UpdatedAt: s.Now()}
	return translate(s.db.WithContext(ctx).Save(&r).Error, "save settings")
}

// codeAlphabet is Crockford's base32: no I, L, O or U to misread at a
// counter.
const codeAlphabet = "0123456789ABCDEFGHJKMNPQRSTVWXYZ"

// newCode returns a customer's loyalty code: "PT-" and 8 characters, 40
// random bits, printed under the QR code and typed when there is no
// camera. Codes can collide in a large programme (CreateCustomer draws
// again when one does).
func newCode() string {
	b := make([]byte, 8)
	if _, err := rand.Read(b); err != nil {
		panic(fmt.Sprintf("crypto/rand failed: %v", err))
	}
	out := []byte("PT-")
	for _, c := range b {
		out = append(out, codeAlphabet[int(c)%32])
	}
	return string(out)
}

// NormalizeCode reads a loyalty code as staff type it: case and spaces do
// not matter, O is 0 and I or L is 1 (Crockford).
func NormalizeCode(s string) string {
	s = strings.ToUpper(strings.Join(strings.Fields(s), ""))
	s = strings.NewReplacer("O", "0", "I", "1", "L", "1").Replace(s)
	if !strings.HasPrefix(s, "PT-") && len(s) == 10 && strings.HasPrefix(s, "PT") {
		s = "PT-" + s[2:]
	}
	return s
}

// ValidCode reports whether c has the shape of a loyalty code ("PT-" and 8
// characters of Crockford's base32, as NormalizeCode returns a typed one).
func ValidCode(c string) bool {
	rest, ok := strings.CutPrefix(c, "PT-")
	if !ok || len(rest) != 8 {
		return false
	}
	for i := 0; i < len(rest); i++ {
		if strings.IndexByte(codeAlphabet, rest[i]) < 0 {
			return false
		}
	}
	return true
}
