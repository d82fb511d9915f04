package store

import (
	"context"
	"errors"
)

// Queries the app's pages (plugins/loyalty/web) need besides those of the
// API and the imports.

// CountCustomers returns how many customers the programme has (the demo
// seeds only into a programme with none).
func (s *Store) CountCustomers(ctx context.Context) (int64, error) {
	var n int64
	return n, translate(s.db.WithContext(ctx).Model(&Customer{}).Count(&n).Error, "count customers")
}

// CustomerByOther returns the customer other than id whose column (email
// or document) is value, or ErrNotFound: a launch links its subject to a
// customer found by e-mail and must not copy onto it a document another
// customer holds.
func (s *Store) CustomerByOther(ctx context.Context, column, value, id string) (*Customer, error) {
	switch column {
	case "email", "document":
	default:
		return nil, errors.New("customer by other: not a lookup column")
	}
	var c Customer
	err := s.db.WithContext(ctx).Where(column+" = ? AND id <> ?", value, id).Take(&c).Error
	return &c, translate(err, "customer by "+column)
}
