package service

import (
	"context"
	"errors"

	"github.com/portico-dev/portico/internal/auth"
	"github.com/portico-dev/portico/internal/model"
	"github.com/portico-dev/portico/internal/storage"
)

// UserInput is a create or partial update of a user.
type UserInput struct {
	Email    *string   `json:"email"`
	Name     *string   `json:"name"`
	Document *string   `json:"document"`
	Phone    *string   `json:"phone"`
	Roles    *[]string `json:"roles"`
	Locale   *string   `json:"locale"`
	Active   *bool     `json:"active"`
	Password *string   `json:"password"`
	Version  *int64    `json:"version"`
}

func (in *UserInput) apply(u *model.User, v *model.ValidationError) {
	set := func(dst *string, src *string) {
		if src != nil {
			*dst = *src
		}
	}
	set(&u.Email, in.Email)
	set(&u.Name, in.Name)
	set(&u.Document, in.Document)
	set(&u.Phone, in.Phone)
	set(&u.Locale, in.Locale)
	if in.Active != nil {
		u.Active = *in.Active
	}
	if in.Roles != nil {
		u.Roles = model.Roles{}
		for _, r := range *in.Roles {
			role, err := model.ParseRole(r)
			if err != nil {
				v.Add("roles", "invalid_choice")
				continue
			}
			u.Roles = append(u.Roles, role)
		}
	}
}

// CreateUser creates an active user. Without a password the user can log in
// only after following a reset link (see ResetLink).
func (s *Service) CreateUser(ctx context.Context, tenantID string, a model.Actor, in UserInput) (*model.User, error) {
	u := &model.User{Active: true}
	v := &model.ValidationError{}
	in.apply(u, v)
	if err := u.Validate(); err != nil {
		fv, _ := model.AsValidation(err)
		v.Fields = append(v.Fields, fv.Fields...)
	}
	if in.Password != nil && *in.Password != "" {
		if !auth.PasswordLengthOK(*in.Password) {
			v.Add("password", "password_length")
		} else if err := v.Err(); err == nil {
			h, err := auth.HashPassword(ctx, *in.Password)
			if err != nil {
				return nil, err
			}
			u.PasswordHash = h
		}
	}
	if err := v.Err(); err != nil {
		return nil, err
	}
	if err := s.store.CreateUserAudited(ctx, tenantID, u, a); err != nil {
		if errors.Is(err, model.ErrConflict) {
			return nil, ErrEmailTaken
		}
		return nil, err
	}
	return u, nil
}

// UpdateUser applies a partial update guarded by in.Version; deactivating
// ends the user's sessions at once. Passwords change only by reset link.
func (s *Service) UpdateUser(ctx context.Context, tenantID, id string, a model.Actor, in UserInput) (*model.User, error) {
	if in.Version == nil {
		return nil, ErrVersionNeeded
	}
	if in.Password != nil {
		v := &model.ValidationError{}
		v.Add("password", "not_allowed")
		return nil, v
	}
	u, err := s.store.UpdateUser(ctx, tenantID, id, *in.Version, a, func(u *model.User) error {
		v := &model.ValidationError{}
		in.apply(u, v)
		// A gestor cannot lock themselves out: someone else must do it.
		if a.Type == "user" && a.ID == u.ID {
			if !u.Active {
				v.Add("active", "self_lockout")
			}
			if !u.HasRole(model.RoleGestor) {
				v.Add("roles", "self_lockout")
			}
		}
		if err := u.Validate(); err != nil {
			fv, _ := model.AsValidation(err)
			v.Fields = append(v.Fields, fv.Fields...)
		}
		return v.Err()
	})
	if errors.Is(err, model.ErrConflict) && !errors.Is(err, storage.ErrStale) {
		return nil, ErrEmailTaken
	}
	return u, err
}

// ResetLink creates a one-time password reset token for a user, valid for
// 24 hours, and returns the path the user opens.
func (s *Service) ResetLink(ctx context.Context, tenantID, userID string, a model.Actor) (string, error) {
	token := auth.NewToken()
	if err := s.store.CreatePasswordReset(ctx, tenantID, userID, auth.HashToken(token), ResetLinkTTL, a); err != nil {
		return "", err
	}
	return "/reset/" + token, nil
}

// ResetPassword sets a new password through a reset link's token, once:
// a validation error for a password that is too short or too long or
// that confirm does not repeat, model.ErrNotFound for a token that is
// unknown, used or expired. Every session of the user ends.
func (s *Service) ResetPassword(ctx context.Context, tenantID, token, password, confirm string) (*model.User, error) {
	v := &model.ValidationError{}
	if !auth.PasswordLengthOK(password) {
		v.Add("password", "password_length")
	} else if password != confirm {
		v.Add("confirm", "password_mismatch")
	}
	if err := v.Err(); err != nil {
		return nil, err
	}
	// A wrong, used or expired link is refused before the password is
	// hashed: a burst of wrong links costs lookups, not argon2id.
	tokenHash := auth.HashToken(token)
	usable, err := s.store.PasswordResetUsable(ctx, tenantID, tokenHash)
	if err != nil {
		return nil, err
	}
	if !usable {
		return nil, model.ErrNotFound
	}
	hash, err := auth.HashPassword(ctx, password)
	if err != nil {
		return nil, err
	}
	return s.store.ConsumePasswordReset(ctx, tenantID, tokenHash, hash)
}
