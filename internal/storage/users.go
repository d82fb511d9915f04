package storage

import (
	"context"

	"github.com/portico-dev/portico/internal/model"
)

// CreateUser inserts a user into tenantID. The caller has run u.Validate; a
// duplicate e-mail inside the tenant is a model.ErrConflict.
func (s *Store) CreateUser(ctx context.Context, tenantID string, u *model.User) error {
	if u.ID == "" {
		u.ID = NewID()
	}
	u.TenantID = tenantID
	u.Version = 1
	return translate(s.db.WithContext(ctx).Create(u).Error, "create user")
}

// UserByEmail finds a user of tenantID by normalised e-mail.
func (s *Store) UserByEmail(ctx context.Context, tenantID, email string) (*model.User, error) {
	var u model.User
	err := s.db.WithContext(ctx).Where("tenant_id = ? AND email = ?", tenantID, email).Take(&u).Error
	if err != nil {
		return nil, translate(err, "user by email")
	}
	return &u, nil
}

// UserByID finds a user of tenantID.
func (s *Store) UserByID(ctx context.Context, tenantID, id string) (*model.User, error) {
	var u model.User
	err := s.db.WithContext(ctx).Where("tenant_id = ? AND id = ?", tenantID, id).Take(&u).Error
	if err != nil {
		return nil, translate(err, "user by id")
	}
	return &u, nil
}

// SetUserLocale records the language a user chose; "" follows the browser.
func (s *Store) SetUserLocale(ctx context.Context, tenantID, userID, locale string) error {
	res := s.db.WithContext(ctx).Model(&model.User{}).
		Where("tenant_id = ? AND id = ?", tenantID, userID).
		Updates(map[string]any{"locale": locale, "updated_at": s.Now()})
	if res.Error != nil {
		return translate(res.Error, "set user locale")
	}
	if res.RowsAffected == 0 {
		return translate(gormNotFound, "set user locale")
	}
	return nil
}
