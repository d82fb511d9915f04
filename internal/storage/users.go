package storage

import (
	"cmp"
	"context"
	"errors"
	"fmt"
	"reflect"
	"strings"

	"github.com/portico-dev/portico/internal/model"
	"gorm.io/gorm"
)

// CreateUser inserts a user into tenantID. The caller has run u.Validate; a
// duplicate e-mail inside the tenant is a model.ErrConflict, and a CPF or
// CNPJ another user of the tenant holds is a validation error (see
// Store.userWriteError).
func (s *Store) CreateUser(ctx context.Context, tenantID string, u *model.User) error {
	if u.ID == "" {
		u.ID = NewID()
	}
	u.TenantID = tenantID
	u.Version = 1
	return s.userWriteError(ctx, s.db.WithContext(ctx).Create(u).Error, u, "create user")
}

// userWriteError translates the error of writing u (an insert or an
// update). A CPF or CNPJ belongs to one user of a tenant (the unique index
// users_tenant_document, migration 00013): plugins find a customer's
// records by document, so a second holder would see the first one's. The
// database decides, so two concurrent writes cannot both pass a check; but
// its error does not say which index refused (the drivers translate it to
// gorm.ErrDuplicatedKey), so a unique violation is looked up afterwards: an
// e-mail another user has is model.ErrConflict, as before; otherwise a
// document another user has is the validation error document_taken on the
// field "document", which every form that writes users (the admin's, the
// API's, a portal session's new customer) shows as any other.
func (s *Store) userWriteError(ctx context.Context, err error, u *model.User, what string) error {
	err = translate(err, what)
	if !errors.Is(err, model.ErrConflict) || u.Document == "" {
		return err
	}
	held := func(column, value string) (bool, error) {
		var n int64
		q := s.db.WithContext(ctx).Model(&model.User{}).Where("tenant_id = ? AND id <> ? AND "+column+" = ?", u.TenantID, u.ID, value)
		if qerr := q.Limit(1).Count(&n).Error; qerr != nil {
			// Not knowing which index refused, say so rather than guess.
			return false, fmt.Errorf("%s: find the conflicting %s: %w", what, column, qerr)
		}
		return n > 0, nil
	}
	if taken, herr := held("email", u.Email); herr != nil || taken {
		return cmp.Or(herr, err)
	}
	if taken, herr := held("document", u.Document); herr != nil || !taken {
		return cmp.Or(herr, err)
	}
	v := &model.ValidationError{}
	v.Add("document", "document_taken")
	return v
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
	err := s.changeTx(ctx, func(tx *gorm.DB) error {
		res := tx.Model(&model.User{}).
			Where("tenant_id = ? AND id = ?", tenantID, userID).
			Updates(map[string]any{"locale": locale, "updated_at": s.Now()})
		if res.Error != nil {
			return res.Error
		}
		if res.RowsAffected == 0 {
			return gormNotFound
		}
		return nil
	}, UserChange(tenantID, userID))
	return translate(err, "set user locale")
}

// UserBySubject returns the user of tenantID whom pluginID knows as
// subject (see PluginSubject); an unknown subject, or one of another
// plugin or tenant, is model.ErrNotFound.
//
// While the store is Coherent both halves come from its caches: the
// subject's user ID (which never changes) and the user (dropped on any
// change of theirs).
func (s *Store) UserBySubject(ctx context.Context, tenantID, pluginID, subject string) (*model.User, error) {
	if !s.Coherent() {
		return s.userBySubject(ctx, tenantID, pluginID, subject)
	}
	now := s.Now()
	sk := cacheKey(tenantID, pluginID, subject)
	if id, ok := s.cache.subjectUsers.get(sk, now); ok {
		if u, ok := s.cache.users.get(cacheKey(tenantID, id), now); ok {
			return cloneUser(u), nil
		}
	}
	se, ue := s.cache.subjectUsers.begin(), s.cache.users.begin()
	u, err := s.userBySubject(ctx, tenantID, pluginID, subject)
	if err != nil {
		return nil, err
	}
	s.cache.subjectUsers.put(sk, u.ID, se, now)
	s.cache.users.put(cacheKey(tenantID, u.ID), *cloneUser(*u), ue, now)
	return u, nil
}

func (s *Store) userBySubject(ctx context.Context, tenantID, pluginID, subject string) (*model.User, error) {
	var u model.User
	err := s.db.WithContext(ctx).
		Where("tenant_id = ? AND id = (SELECT user_id FROM plugin_subjects WHERE tenant_id = ? AND plugin_id = ? AND subject = ?)",
			tenantID, tenantID, pluginID, subject).
		Take(&u).Error
	if err != nil {
		return nil, translate(err, "user by subject")
	}
	return &u, nil
}

// UserSnapshot is the audited view of a user (never the password hash).
func UserSnapshot(u *model.User) map[string]any {
	return map[string]any{"id": u.ID, "email": u.Email, "name": u.Name, "document": u.Document, "phone": u.Phone,
		"roles": u.Roles, "locale": u.Locale, "active": u.Active, "version": u.Version, "address": u.Address}
}

// MaxUserPage bounds one user listing.
const MaxUserPage = 100

// Users lists tenantID's users whose name, e-mail or document contains
// query (case-insensitive), ordered by name.
func (s *Store) Users(ctx context.Context, tenantID, query string, limit, offset int) ([]model.User, error) {
	q := s.db.WithContext(ctx).Where("tenant_id = ?", tenantID)
	if query = strings.ToLower(strings.TrimSpace(query)); query != "" {
		like := "%" + strings.NewReplacer(`\`, `\\`, "%", `\%`, "_", `\_`).Replace(query) + "%"
		q = q.Where(`(LOWER(name) LIKE ? ESCAPE '\' OR email LIKE ? ESCAPE '\' OR document LIKE ? ESCAPE '\')`, like, like, like)
	}
	if limit <= 0 || limit > MaxUserPage {
		limit = MaxUserPage
	}
	var out []model.User
	err := q.Order("name, id").Limit(limit).Offset(max(offset, 0)).Find(&out).Error
	return out, translate(err, "list users")
}

// CreateUserAudited inserts a validated user and its audit entry.
func (s *Store) CreateUserAudited(ctx context.Context, tenantID string, u *model.User, a model.Actor) error {
	if u.ID == "" {
		u.ID = NewID()
	}
	u.TenantID, u.Version = tenantID, 1
	err := s.db.WithContext(ctx).Transaction(func(tx *gorm.DB) error {
		if err := tx.Create(u).Error; err != nil {
			return err
		}
		return s.appendAudit(tx, tenantID, a, model.AuditUserCreate, "user", u.ID, nil, UserSnapshot(u))
	})
	return s.userWriteError(ctx, err, u, "create user")
}

// UpdateUser applies mutate to user id of tenantID if its version is still
// expectedVersion. A user who ends up inactive loses every session in the
// same transaction. When mutate changes nothing, nothing is written or
// audited and the returned user keeps expectedVersion.
func (s *Store) UpdateUser(ctx context.Context, tenantID, id string, expectedVersion int64, a model.Actor, mutate func(*model.User) error) (*model.User, error) {
	return s.updateUser(ctx, tenantID, id, expectedVersion, a, model.AuditUserUpdate, mutate)
}

// UpdateOwnUser is UpdateUser for a change people make to their own
// account (their profile or address), audited as action.
func (s *Store) UpdateOwnUser(ctx context.Context, tenantID, id string, expectedVersion int64, a model.Actor, action string, mutate func(*model.User) error) (*model.User, error) {
	return s.updateUser(ctx, tenantID, id, expectedVersion, a, action, mutate)
}

func (s *Store) updateUser(ctx context.Context, tenantID, id string, expectedVersion int64, a model.Actor, action string, mutate func(*model.User) error) (*model.User, error) {
	var u model.User
	unchanged, keysRevoked := false, false
	err := s.db.WithContext(ctx).Transaction(func(tx *gorm.DB) error {
		if err := tx.Where("tenant_id = ? AND id = ?", tenantID, id).Take(&u).Error; err != nil {
			return err
		}
		if u.Version != expectedVersion {
			return ErrStale
		}
		before := UserSnapshot(&u)
		wasStaff := u.Active && u.HasRole(model.RoleGestor)
		if err := mutate(&u); err != nil {
			return err
		}
		if reflect.DeepEqual(UserSnapshot(&u), before) {
			// Nothing changed: no write, no new version, no audit entry
			// (a form saved as it was shown is not an event).
			unchanged = true
			return nil
		}
		u.Version, u.UpdatedAt = expectedVersion+1, s.Now()
		res := tx.Model(&model.User{}).Where("tenant_id = ? AND id = ? AND version = ?", tenantID, id, expectedVersion).
			Select("email", "name", "document", "phone", "roles", "locale", "active", "version", "updated_at",
				"address_cep", "address_street", "address_number", "address_complement", "address_district", "address_city", "address_state").Updates(&u)
		if res.Error != nil {
			return res.Error
		}
		if res.RowsAffected != 1 {
			return ErrStale
		}
		if !u.Active {
			if err := tx.Where("tenant_id = ? AND user_id = ?", tenantID, id).Delete(&model.Session{}).Error; err != nil {
				return err
			}
			if err := invalidatePasswordResets(tx, tenantID, id, u.UpdatedAt); err != nil {
				return err
			}
		}
		if !u.Active || !u.HasRole(model.RoleGestor) {
			if err := voidResetLinksBy(tx, tenantID, id, u.UpdatedAt); err != nil {
				return err
			}
		}
		if wasStaff && (!u.Active || !u.HasRole(model.RoleGestor)) {
			// Only when this change ends the person's gestor access: a
			// later edit of someone who had already left (their own
			// profile, say) must not revoke keys in their name.
			revoked, err := s.revokeKeysBy(tx, tenantID, id, u.UpdatedAt, a)
			if err != nil {
				return err
			}
			keysRevoked = revoked
		}
		if err := s.announce(tx, UserChange(tenantID, id)); err != nil {
			return err
		}
		return s.appendAudit(tx, tenantID, a, action, "user", id, before, UserSnapshot(&u))
	})
	if err != nil {
		if _, ok := model.AsValidation(err); ok || errors.Is(err, ErrStale) {
			return nil, err
		}
		return nil, s.userWriteError(ctx, err, &u, "update user")
	}
	if !unchanged {
		s.notify(UserChange(tenantID, id))
	}
	if keysRevoked {
		s.notify(Change{Kind: ChangeAPIKeys, TenantID: tenantID})
	}
	return &u, nil
}
