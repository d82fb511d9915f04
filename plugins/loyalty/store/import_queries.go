package store

import (
	"errors"
	"fmt"
	"slices"
	"strings"

	"gorm.io/gorm"
)

// Bulk is the store's operations for many rows at once (the CSV import),
// inside a transaction the caller opened on DB(): the rules of
// CreateCustomer and Earn, with a statement per batch instead of per row.
// The caller commits or rolls back; Bulk never opens its own transaction.
//
// Statements take their rows in groups of 512, 64, 8 and 1, and IN lists
// are padded to those sizes, so a batch of any size uses a handful of
// distinct SQL texts: GORM's prepared-statement cache (on for SQLite)
// keeps every text it sees.
type Bulk struct {
	s  *Store
	tx *gorm.DB
}

// Bulk returns bulk operations in tx, a transaction of s.DB().
func (s *Store) Bulk(tx *gorm.DB) *Bulk { return &Bulk{s: s, tx: tx} }

// bulkSizes are the group sizes of bulk statements, largest first.
var bulkSizes = []int{512, 64, 8, 1}

// groups calls f for consecutive ranges of n items, each of a bulkSizes
// length.
func groups(n int, f func(lo, hi int) error) error {
	for lo := 0; lo < n; {
		size := 1
		for _, s := range bulkSizes {
			if n-lo >= s {
				size = s
				break
			}
		}
		if err := f(lo, lo+size); err != nil {
			return err
		}
		lo += size
	}
	return nil
}

// padded splits values into IN lists of bulkSizes lengths, the last one
// padded by repeating its last value.
func padded(values []string, f func(in []string) error) error {
	for lo := 0; lo < len(values); lo += bulkSizes[0] {
		chunk := values[lo:min(lo+bulkSizes[0], len(values))]
		size := bulkSizes[0]
		for _, s := range bulkSizes {
			if s >= len(chunk) {
				size = s
			}
		}
		in := make([]string, size)
		copy(in, chunk)
		for i := len(chunk); i < size; i++ {
			in[i] = chunk[len(chunk)-1]
		}
		if err := f(in); err != nil {
			return err
		}
	}
	return nil
}

func distinct(values []string) []string {
	out := slices.Clone(values)
	slices.Sort(out)
	out = slices.Compact(out)
	if len(out) > 0 && out[0] == "" {
		out = out[1:]
	}
	return out
}

// CustomersByEmail returns the customers with any of emails (lower case),
// oldest first.
func (b *Bulk) CustomersByEmail(emails []string) ([]Customer, error) {
	return b.customersBy("email", emails)
}

// CustomersByDocument returns the customers with any of docs (CPF/CNPJ
// digits), oldest first.
func (b *Bulk) CustomersByDocument(docs []string) ([]Customer, error) {
	return b.customersBy("document", docs)
}

func (b *Bulk) customersBy(column string, values []string) ([]Customer, error) {
	var out []Customer
	err := padded(distinct(values), func(in []string) error {
		var part []Customer
		if err := b.tx.Where(column+" IN ?", in).Find(&part).Error; err != nil {
			return err
		}
		out = append(out, part...)
		return nil
	})
	slices.SortFunc(out, func(x, y Customer) int {
		if c := x.CreatedAt.Compare(y.CreatedAt); c != 0 {
			return c
		}
		return strings.Compare(x.ID, y.ID)
	})
	return out, translate(err, "customers by "+column)
}

// AppliedSourceKeys returns which of keys a ledger entry already has.
func (b *Bulk) AppliedSourceKeys(keys []string) (map[string]bool, error) {
	out := map[string]bool{}
	err := padded(distinct(keys), func(in []string) error {
		var found []string
		if err := b.tx.Model(&Entry{}).Where("source_key IN ?", in).Pluck("source_key", &found).Error; err != nil {
			return err
		}
		for _, k := range found {
			out[k] = true
		}
		return nil
	})
	return out, translate(err, "applied source keys")
}

// CreateCustomers stores cs (their IDs, codes and creation times are set
// here) with zero balances. The caller has checked that no customer has
// their e-mails or documents, in this transaction.
func (b *Bulk) CreateCustomers(cs []*Customer) error {
	if len(cs) == 0 {
		return nil
	}
	now := b.s.Now()
	bals := make([]balance, len(cs))
	for i, c := range cs {
		c.ID, c.CreatedAt = NewID(), now
		if c.Code == "" {
			c.Code = newCode()
		}
		bals[i] = balance{CustomerID: c.ID}
	}
	err := groups(len(cs), func(lo, hi int) error {
		part := cs[lo:hi]
		if err := b.tx.Create(&part).Error; err != nil {
			return err
		}
		bp := bals[lo:hi]
		return b.tx.Create(&bp).Error
	})
	return translate(err, "create customers")
}

// Earn applies ms, each of kind (earn or adjust), as Earn does one: a
// ledger entry and a lot per movement, the balances raised by the sum of
// their movements. A movement whose source key an entry has, in the
// database or twice in ms, fails the whole call with ErrDuplicate (check
// with AppliedSourceKeys first); an unknown customer with ErrNotFound.
// On PostgreSQL the balance rows are locked in customer order first, so
// concurrent bulk earns and spends cannot deadlock on them.
func (b *Bulk) Earn(kind string, ms []Movement) ([]Entry, error) {
	if kind != KindEarn && kind != KindAdjust {
		return nil, fmt.Errorf("bulk earn: kind %q", kind)
	}
	if len(ms) == 0 {
		return nil, nil
	}
	sums := map[string]int64{}
	entries := make([]Entry, len(ms))
	lots := make([]lot, len(ms))
	keys := map[string]bool{}
	for i, m := range ms {
		if m.Points <= 0 {
			return nil, fmt.Errorf("bulk earn: %d points", m.Points)
		}
		if m.SourceKey != "" {
			if keys[m.SourceKey] {
				return nil, fmt.Errorf("bulk earn: source key %q twice: %w", m.SourceKey, ErrDuplicate)
			}
			keys[m.SourceKey] = true
		}
		sums[m.CustomerID] += m.Points
		e := b.s.entry(kind, m, m.Points)
		e.ExpiresAt = m.ExpiresAt
		entries[i] = e
		lots[i] = lot{EntryID: e.ID, CustomerID: m.CustomerID, Remaining: m.Points, ExpiresAt: m.ExpiresAt}
	}
	ids := make([]string, 0, len(sums))
	for id := range sums {
		ids = append(ids, id)
	}
	slices.Sort(ids)

	if b.s.driver != "sqlite" {
		locked := 0
		err := padded(ids, func(in []string) error {
			var got []string
			err := b.tx.Raw("SELECT customer_id FROM balances WHERE customer_id IN ? ORDER BY customer_id FOR UPDATE", in).Scan(&got).Error
			locked += len(got)
			return err
		})
		if err != nil {
			return nil, translate(err, "bulk earn")
		}
		if locked < len(ids) {
			return nil, fmt.Errorf("bulk earn: %w", ErrNotFound)
		}
	}
	updated := int64(0)
	err := groups(len(ids), func(lo, hi int) error {
		var sql strings.Builder
		sql.WriteString("UPDATE balances SET points = balances.points + v.column2 FROM (VALUES ")
		args := make([]any, 0, 2*(hi-lo))
		for i, id := range ids[lo:hi] {
			if i > 0 {
				sql.WriteString(", ")
			}
			sql.WriteString("(?, CAST(? AS BIGINT))")
			args = append(args, id, sums[id])
		}
		sql.WriteString(") AS v WHERE balances.customer_id = v.column1")
		res := b.tx.Exec(sql.String(), args...)
		updated += res.RowsAffected
		return res.Error
	})
	if err != nil {
		return nil, translate(err, "bulk earn")
	}
	if updated != int64(len(ids)) {
		return nil, fmt.Errorf("bulk earn: %w", ErrNotFound)
	}
	err = groups(len(entries), func(lo, hi int) error {
		part := entries[lo:hi]
		if err := b.tx.Create(&part).Error; err != nil {
			return err
		}
		lp := lots[lo:hi]
		return b.tx.Create(&lp).Error
	})
	if err != nil {
		if strings.Contains(err.Error(), "source_key") || errors.Is(translate(err, ""), ErrConflict) {
			return nil, fmt.Errorf("bulk earn: %w", ErrDuplicate) // applied concurrently
		}
		return nil, translate(err, "bulk earn")
	}
	return entries, nil
}
