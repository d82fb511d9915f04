package store

import (
	"cmp"
	"context"
	"errors"
	"fmt"
	"strings"
	"time"
	"unicode"

	"golang.org/x/text/runes"
	"golang.org/x/text/transform"
	"golang.org/x/text/unicode/norm"
	"gorm.io/gorm"
	"gorm.io/gorm/clause"

	"github.com/portico-dev/portico/internal/model"
)

// Customer is a member of the programme.
type Customer struct {
	ID   string `gorm:"primaryKey"`
	Code string // the loyalty code under the QR: "PT-" and 8 characters
	// Subject is the customer's stable id from Portico's launch exchange
	// (pairwise per plugin); nil for a customer created by the API or a
	// CSV file who never opened the plugin.
	Subject  *string
	Name     string
	Email    string // lower-case; may be empty
	Phone    string // digits; may be empty
	Document string // CPF/CNPJ (NormalizeDocument's form); may be empty
	// SearchName is FoldName(Name), set on every save: what the staff
	// search compares.
	SearchName string
	// SourceKey is the source key (as a ledger entry's) of the API request
	// that created the customer under an Idempotency-Key; nil otherwise.
	// It is unique: the request, run again, cannot create a second one.
	SourceKey *string
	CreatedAt time.Time
}

// BeforeSave keeps SearchName in step with Name (GORM calls it for every
// Create and Save, each element of a slice included).
func (c *Customer) BeforeSave(*gorm.DB) error {
	c.SearchName = FoldName(c.Name)
	return nil
}

// FoldName is how names are compared by the staff search: lower case,
// without accents or other marks, spaces collapsed, so "ÂNGELA  JOÃO",
// "ângela joão" and "angela joao" are the same.
func FoldName(s string) string {
	folded, _, err := transform.String(transform.Chain(norm.NFD, runes.Remove(runes.In(unicode.Mn)), norm.NFC), s)
	if err != nil {
		folded = s
	}
	return strings.Join(strings.Fields(strings.ToLower(folded)), " ")
}

// Movement kinds.
const (
	KindEarn   = "earn"
	KindRedeem = "redeem"
	KindExpire = "expire"
	KindAdjust = "adjust"
)

// Entry is one ledger row. Points is signed: positive for earn and
// positive adjustments, negative otherwise.
type Entry struct {
	ID          string `gorm:"primaryKey"`
	CustomerID  string
	Kind        string
	Points      int64
	AmountCents int64
	Receipt     string
	Reason      string
	Store       string
	Actor       string
	// SourceKey makes a movement idempotent at the database: a CSV line
	// ("import:{file sha256}:{line}") is applied once.
	SourceKey *string
	ExpiresAt *time.Time
	CreatedAt time.Time
}

// TableName maps Entry onto ledger.
func (Entry) TableName() string { return "ledger" }

type lot struct {
	EntryID    string `gorm:"primaryKey"`
	CustomerID string
	Remaining  int64
	ExpiresAt  *time.Time
}

type balance struct {
	CustomerID string `gorm:"primaryKey"`
	Points     int64
}

// CreateCustomer stores c (its ID and code are set here) with a zero
// balance. A taken e-mail, document or subject is ErrConflict; a random
// loyalty code that happens to be taken is drawn again. A customer with
// c's SourceKey already (the same request run again) is ErrDuplicate,
// whatever else c has: CustomerBySourceKey returns it.
func (s *Store) CreateCustomer(ctx context.Context, c *Customer) error {
	c.ID, c.CreatedAt = NewID(), s.Now()
	chosen := c.Code != ""
	var err error
	for range 4 {
		if !chosen {
			c.Code = newCode()
		}
		err = s.createCustomer(ctx, c)
		if !errors.Is(err, errCodeTaken) || chosen {
			break
		}
	}
	if err != nil && c.SourceKey != nil && !errors.Is(err, ErrDuplicate) && (errors.Is(err, ErrConflict) || isDuplicateKey(err)) {
		// A concurrent run of the same request made it first?
		if _, err2 := s.CustomerBySourceKey(ctx, *c.SourceKey); err2 == nil {
			err = ErrDuplicate
		}
	}
	switch {
	case errors.Is(err, ErrDuplicate):
		return fmt.Errorf("create customer: %w", ErrDuplicate)
	case errors.Is(err, ErrConflict) || errors.Is(err, errCodeTaken):
		return fmt.Errorf("create customer: %w", ErrConflict)
	}
	return translate(err, "create customer")
}

// CustomerBySourceKey returns the customer created under source key key
// (see Customer.SourceKey).
func (s *Store) CustomerBySourceKey(ctx context.Context, key string) (*Customer, error) {
	var c Customer
	return &c, translate(s.db.WithContext(ctx).Where("source_key = ?", key).Take(&c).Error, "customer by source key")
}

// errCodeTaken is a loyalty code another customer has.
var errCodeTaken = errors.New("loyalty code taken")

func (s *Store) createCustomer(ctx context.Context, c *Customer) error {
	return s.db.WithContext(ctx).Transaction(func(tx *gorm.DB) error {
		if c.SourceKey != nil {
			var n int64
			if err := tx.Model(&Customer{}).Where("source_key = ?", *c.SourceKey).Count(&n).Error; err != nil {
				return err
			}
			if n > 0 {
				return ErrDuplicate
			}
		}
		if c.Email != "" || c.Document != "" {
			var n int64
			q := tx.Model(&Customer{})
			switch {
			case c.Email != "" && c.Document != "":
				q = q.Where("email = ? OR document = ?", c.Email, c.Document)
			case c.Email != "":
				q = q.Where("email = ?", c.Email)
			default:
				q = q.Where("document = ?", c.Document)
			}
			if err := q.Count(&n).Error; err != nil {
				return err
			}
			if n > 0 {
				return ErrConflict
			}
		}
		var n int64
		if err := tx.Model(&Customer{}).Where("code = ?", c.Code).Count(&n).Error; err != nil {
			return err
		}
		if n > 0 {
			return errCodeTaken
		}
		if err := tx.Create(c).Error; err != nil {
			// A concurrent creation of the same e-mail or document (the
			// unique indexes decide), or, rarely, of the same code.
			return err
		}
		return tx.Create(&balance{CustomerID: c.ID}).Error
	})
}

// Customer returns customer id.
func (s *Store) Customer(ctx context.Context, id string) (*Customer, error) {
	var c Customer
	return &c, translate(s.db.WithContext(ctx).Where("id = ?", id).Take(&c).Error, "customer")
}

// CustomerBy returns the customer whose column (code, subject, email or
// document) is value.
func (s *Store) CustomerBy(ctx context.Context, column, value string) (*Customer, error) {
	switch column {
	case "code", "subject", "email", "document":
	default:
		return nil, fmt.Errorf("customer by %q: not a lookup column", column)
	}
	var c Customer
	return &c, translate(s.db.WithContext(ctx).Where(column+" = ?", value).Take(&c).Error, "customer by "+column)
}

// LinkSubject records the portal subject of customer id (the first time a
// customer the API or a file created opens the plugin) and refreshes the
// name and e-mail the portal knows, and the document when the record has
// none: a document already on the record is never replaced. Only a record
// with no subject, or already this one, is linked: the check and the write
// are one statement, so of two portal users who found the same unlinked
// record at once only one gets it. A record that belongs to another
// subject (or that does not exist) is ErrConflict.
func (s *Store) LinkSubject(ctx context.Context, id, subject, name, email, document string) error {
	updates := map[string]any{"subject": subject}
	if name != "" {
		updates["name"], updates["search_name"] = name, FoldName(name)
	}
	if email != "" {
		updates["email"] = email
	}
	if document != "" {
		updates["document"] = gorm.Expr("CASE WHEN document = '' THEN ? ELSE document END", document)
	}
	res := s.db.WithContext(ctx).Model(&Customer{}).Where("id = ? AND (subject IS NULL OR subject = ?)", id, subject).Updates(updates)
	if res.Error != nil {
		return translate(res.Error, "link subject")
	}
	if res.RowsAffected != 1 {
		return fmt.Errorf("link subject: customer %s belongs to another portal user: %w", id, ErrConflict)
	}
	return nil
}

// MaxSearch bounds one search.
const MaxSearch = 50

// SearchCustomers finds customers, best matches first, at most limit
// (1–MaxSearch). What q matches, in the order the results come:
//
//  0. exactly: the loyalty code (as NormalizeCode reads a typed one), the
//     e-mail (case-insensitive), the CPF/CNPJ, or — q having 8 digits or
//     more, punctuation ignored — the document's or the phone's digits
//     (the phone with or without Brazil's country code 55);
//  1. the whole name (FoldName: case, accents and spaces not mattering);
//  2. a phone that ends in q's digits (8 or more: a number typed without
//     its area or country code);
//  3. a part of the name (folded) or of the e-mail (case-insensitive).
//
// Within each group, by name and then id.
func (s *Store) SearchCustomers(ctx context.Context, q string, limit int) ([]Customer, error) {
	q = strings.TrimSpace(q)
	if q == "" {
		return nil, nil
	}
	if limit <= 0 || limit > MaxSearch {
		limit = MaxSearch
	}
	digits := strings.Map(func(r rune) rune {
		if r >= '0' && r <= '9' {
			return r
		}
		return -1
	}, q)
	escape := strings.NewReplacer(`\`, `\\`, "%", `\%`, "_", `\_`).Replace
	folded := FoldName(q)

	exact := []string{"code = ?", "email = ?"}
	exactVars := []any{NormalizeCode(q), strings.ToLower(q)}
	if d, err := model.NormalizeDocument(q); err == nil {
		exact, exactVars = append(exact, "document = ?"), append(exactVars, d) // an alphanumeric CNPJ has letters
	}
	partialPhone := "1 = 0"
	var partialPhoneVars []any
	if len(digits) >= 8 {
		exact, exactVars = append(exact, "document = ?", "phone = ?"), append(exactVars, digits, digits)
		switch national, ok := strings.CutPrefix(digits, "55"); {
		case ok && len(digits) >= 12:
			// +55 typed, the number stored without the country code.
			exact, exactVars = append(exact, "phone = ?"), append(exactVars, national)
		case len(digits) == 10 || len(digits) == 11:
			// An area code and a number, stored with the country code.
			exact, exactVars = append(exact, "phone = ?"), append(exactVars, "55"+digits)
		}
		partialPhone, partialPhoneVars = "phone LIKE ?", []any{"%" + digits}
	}
	isExact := "(" + strings.Join(exact, " OR ") + ")"
	const (
		nameIs       = "search_name = ?"
		namePart     = `search_name LIKE ? ESCAPE '\'`
		emailPart    = `email LIKE ? ESCAPE '\'`
		orderByGroup = "CASE WHEN %s THEN 0 WHEN %s THEN 1 WHEN %s THEN 2 ELSE 3 END, name, id"
	)
	nameLike, emailLike := "%"+escape(folded)+"%", "%"+escape(strings.ToLower(q))+"%"

	where := strings.Join([]string{isExact, partialPhone, namePart, emailPart}, " OR ")
	whereVars := append(append(append([]any{}, exactVars...), partialPhoneVars...), nameLike, emailLike)
	order := clause.Expr{SQL: fmt.Sprintf(orderByGroup, isExact, nameIs, partialPhone), WithoutParentheses: true,
		Vars: append(append(append([]any{}, exactVars...), folded), partialPhoneVars...)}
	var out []Customer
	err := s.db.WithContext(ctx).Model(&Customer{}).Where(where, whereVars...).
		Order(clause.OrderBy{Expression: order}).Limit(limit).Find(&out).Error
	return out, translate(err, "search customers")
}

// Balance returns customer id's balance.
func (s *Store) Balance(ctx context.Context, id string) (int64, error) {
	var b balance
	return b.Points, translate(s.db.WithContext(ctx).Where("customer_id = ?", id).Take(&b).Error, "balance")
}

// Movement is a change of points to apply.
type Movement struct {
	CustomerID  string
	Points      int64 // always positive; the kind says the direction
	AmountCents int64 // the purchase, for an earn from an amount
	Receipt     string
	Reason      string
	Store       string
	Actor       string
	SourceKey   string // "" none; see Entry.SourceKey
	// ExpiresAt is when earned points expire; nil never.
	ExpiresAt *time.Time
}

// Result is an applied movement and the balance after it.
type Result struct {
	Entry   Entry
	Balance int64
}

// sourceKeyUsed reports whether a ledger entry has source key key; false
// for "" (a movement without one).
func sourceKeyUsed(tx *gorm.DB, key string) (bool, error) {
	if key == "" {
		return false, nil
	}
	var n int64
	err := tx.Model(&Entry{}).Where("source_key = ?", key).Count(&n).Error
	return n > 0, err
}

// Earn adds points (kind earn, or adjust for a positive adjustment).
func (s *Store) Earn(ctx context.Context, kind string, m Movement) (*Result, error) {
	if kind != KindEarn && kind != KindAdjust {
		return nil, fmt.Errorf("earn: kind %q", kind)
	}
	if m.Points <= 0 {
		return nil, fmt.Errorf("earn: %d points", m.Points)
	}
	var out Result
	err := s.db.WithContext(ctx).Transaction(func(tx *gorm.DB) error {
		if used, err := sourceKeyUsed(tx, m.SourceKey); err != nil || used {
			return cmp.Or(err, ErrDuplicate)
		}
		res := tx.Model(&balance{}).Where("customer_id = ?", m.CustomerID).Update("points", gorm.Expr("points + ?", m.Points))
		if res.Error != nil {
			return res.Error
		}
		if res.RowsAffected != 1 {
			return ErrNotFound
		}
		e := s.entry(kind, m, m.Points)
		e.ExpiresAt = m.ExpiresAt
		if err := tx.Create(&e).Error; err != nil {
			return err
		}
		if err := tx.Create(&lot{EntryID: e.ID, CustomerID: m.CustomerID, Remaining: m.Points, ExpiresAt: m.ExpiresAt}).Error; err != nil {
			return err
		}
		out.Entry = e
		return tx.Model(&balance{}).Select("points").Where("customer_id = ?", m.CustomerID).Scan(&out.Balance).Error
	})
	if errors.Is(err, ErrDuplicate) || errors.Is(err, ErrNotFound) {
		return nil, fmt.Errorf("earn: %w", err)
	}
	if isDuplicateKey(err) {
		// The one unique column an earn can collide on is the source key:
		// a concurrent application of the same movement.
		return nil, fmt.Errorf("earn: %w", ErrDuplicate)
	}
	if err != nil {
		return nil, translate(err, "earn")
	}
	return &out, nil
}

// Spend takes points away (kind redeem, or adjust for a negative
// adjustment): only when the balance covers them, else ErrInsufficient.
// The lots that expire first are consumed first.
func (s *Store) Spend(ctx context.Context, kind string, m Movement) (*Result, error) {
	if kind != KindRedeem && kind != KindAdjust {
		return nil, fmt.Errorf("spend: kind %q", kind)
	}
	if m.Points <= 0 {
		return nil, fmt.Errorf("spend: %d points", m.Points)
	}
	var out Result
	err := s.db.WithContext(ctx).Transaction(func(tx *gorm.DB) error {
		// The guarded update takes the balance row's lock: concurrent
		// spends of one customer queue here, and none can overdraw.
		res := tx.Model(&balance{}).Where("customer_id = ? AND points >= ?", m.CustomerID, m.Points).
			Update("points", gorm.Expr("points - ?", m.Points))
		if res.Error != nil {
			return res.Error
		}
		if res.RowsAffected != 1 {
			var n int64
			if err := tx.Model(&balance{}).Where("customer_id = ?", m.CustomerID).Count(&n).Error; err != nil {
				return err
			}
			if n == 0 {
				return ErrNotFound
			}
			// The same movement applied before (a form posted twice) is
			// what it is, not a shortage it caused itself.
			if used, err := sourceKeyUsed(tx, m.SourceKey); err != nil || used {
				return cmp.Or(err, ErrDuplicate)
			}
			return ErrInsufficient
		}
		e := s.entry(kind, m, -m.Points)
		if err := tx.Create(&e).Error; err != nil {
			return err
		}
		if err := consumeLots(tx, m.CustomerID, m.Points); err != nil {
			return err
		}
		out.Entry = e
		return tx.Model(&balance{}).Select("points").Where("customer_id = ?", m.CustomerID).Scan(&out.Balance).Error
	})
	if errors.Is(err, ErrInsufficient) || errors.Is(err, ErrNotFound) || errors.Is(err, ErrDuplicate) {
		return nil, fmt.Errorf("spend: %w", err)
	}
	if isDuplicateKey(err) {
		return nil, fmt.Errorf("spend: %w", ErrDuplicate) // the same movement's source key
	}
	if err != nil {
		return nil, translate(err, "spend")
	}
	return &out, nil
}

func (s *Store) entry(kind string, m Movement, signed int64) Entry {
	e := Entry{ID: NewID(), CustomerID: m.CustomerID, Kind: kind, Points: signed, AmountCents: m.AmountCents,
		Receipt: m.Receipt, Reason: m.Reason, Store: m.Store, Actor: m.Actor, CreatedAt: s.Now()}
	if m.SourceKey != "" {
		k := m.SourceKey
		e.SourceKey = &k
	}
	return e
}

// consumeLots takes n points from the customer's lots, those expiring
// first first (never-expiring last). The caller holds the balance row.
func consumeLots(tx *gorm.DB, customerID string, n int64) error {
	var lots []lot
	if err := tx.Where("customer_id = ? AND remaining > 0", customerID).
		Order("CASE WHEN expires_at IS NULL THEN 1 ELSE 0 END, expires_at, entry_id").Find(&lots).Error; err != nil {
		return err
	}
	for _, l := range lots {
		if n == 0 {
			break
		}
		take := min(n, l.Remaining)
		if err := tx.Model(&lot{}).Where("entry_id = ?", l.EntryID).Update("remaining", l.Remaining-take).Error; err != nil {
			return err
		}
		n -= take
	}
	if n != 0 {
		return fmt.Errorf("consume lots: %d points have no lot (the balance and the lots disagree)", n)
	}
	return nil
}

// ExpireDue expires the remaining points of every lot whose time has come
// (at now): per customer, one transaction that records an expire entry
// per lot and lowers the balance. It returns how many points expired; run
// it on a schedule (the app does, every few minutes). Re-running it
// expires nothing twice.
func (s *Store) ExpireDue(ctx context.Context, now time.Time) (int64, error) {
	var customers []string
	if err := s.db.WithContext(ctx).Model(&lot{}).Distinct("customer_id").
		Where("remaining > 0 AND expires_at IS NOT NULL AND expires_at <= ?", now).Limit(1000).Pluck("customer_id", &customers).Error; err != nil {
		return 0, translate(err, "find expired lots")
	}
	var total int64
	for _, cid := range customers {
		err := s.db.WithContext(ctx).Transaction(func(tx *gorm.DB) error {
			// Take the balance row first, as a spend does.
			if err := tx.Model(&balance{}).Where("customer_id = ?", cid).Update("points", gorm.Expr("points")).Error; err != nil {
				return err
			}
			var lots []lot
			if err := tx.Where("customer_id = ? AND remaining > 0 AND expires_at IS NOT NULL AND expires_at <= ?", cid, now).
				Order("expires_at, entry_id").Find(&lots).Error; err != nil {
				return err
			}
			for _, l := range lots {
				if err := tx.Model(&lot{}).Where("entry_id = ?", l.EntryID).Update("remaining", 0).Error; err != nil {
					return err
				}
				if err := tx.Model(&balance{}).Where("customer_id = ?", cid).Update("points", gorm.Expr("points - ?", l.Remaining)).Error; err != nil {
					return err
				}
				e := Entry{ID: NewID(), CustomerID: cid, Kind: KindExpire, Points: -l.Remaining, Reason: "expired",
					Actor: "system", CreatedAt: s.Now()}
				if err := tx.Create(&e).Error; err != nil {
					return err
				}
				total += l.Remaining
			}
			return nil
		})
		if err != nil {
			return total, translate(err, "expire lots")
		}
	}
	return total, nil
}

// MaxHistory bounds one page of history.
const MaxHistory = 100

// History returns customer id's movements, newest first, limit of them
// older than the entry before ("" for the newest).
func (s *Store) History(ctx context.Context, id, before string, limit int) ([]Entry, error) {
	if limit <= 0 || limit > MaxHistory {
		limit = MaxHistory
	}
	q := s.db.WithContext(ctx).Where("customer_id = ?", id)
	if before != "" {
		q = q.Where("id < ?", before)
	}
	var out []Entry
	return out, translate(q.Order("id DESC").Limit(limit).Find(&out).Error, "history")
}

// Expiring returns how many of customer id's points expire before until,
// and the earliest of those expiries (zero when none).
func (s *Store) Expiring(ctx context.Context, id string, until time.Time) (int64, time.Time, error) {
	var lots []lot
	err := s.db.WithContext(ctx).Where("customer_id = ? AND remaining > 0 AND expires_at IS NOT NULL AND expires_at <= ?", id, until).
		Order("expires_at").Find(&lots).Error
	if err != nil {
		return 0, time.Time{}, translate(err, "expiring points")
	}
	var n int64
	var first time.Time
	for i, l := range lots {
		n += l.Remaining
		if i == 0 {
			first = l.ExpiresAt.UTC()
		}
	}
	return n, first, nil
}

// LedgerSum returns the sum of customer id's ledger, which the balance
// must equal (tests and a consistency check use it).
func (s *Store) LedgerSum(ctx context.Context, id string) (int64, error) {
	var sum int64
	err := s.db.WithContext(ctx).Model(&Entry{}).Select("COALESCE(SUM(points), 0)").Where("customer_id = ?", id).Scan(&sum).Error
	return sum, translate(err, "ledger sum")
}
