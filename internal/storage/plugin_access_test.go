package storage_test

import (
	"context"
	"encoding/json"
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/portico-dev/portico/internal/model"
	"github.com/portico-dev/portico/internal/storage"
	"github.com/portico-dev/portico/internal/testdb"
)

var credActor = model.Actor{Type: "user", ID: "u1", Label: "gestor@exemplo.com", IP: "127.0.0.1"}

func TestRotateClientSecret(t *testing.T) {
	forEachDriver(t, func(t *testing.T, st *storage.Store) {
		ctx := context.Background()
		tn := newTenant(t, st, "rot", "rot.test")
		other := newTenant(t, st, "rot-outra", "rot-outra.test")
		tok := newPlugin("erp", 10)
		tok.AuthType, tok.ClientID, tok.ClientSecretHash = model.AuthToken, "pc_erp", "hash-1"
		testdb.Must(t, st.CreatePlugin(ctx, tn.ID, tok, credActor), "create token plugin")
		legacy := newPlugin("legado", 20) // a token plugin registered without credentials
		legacy.AuthType = model.AuthToken
		testdb.Must(t, st.CreatePlugin(ctx, tn.ID, legacy, credActor), "create legacy plugin")
		plain := newPlugin("aberto", 30)
		testdb.Must(t, st.CreatePlugin(ctx, tn.ID, plain, credActor), "create plain plugin")

		now := st.Now()
		until := now.Add(24 * time.Hour)

		// With an overlap: the old secret stays valid until then.
		p, err := st.RotateClientSecret(ctx, tn.ID, "erp", storage.NewClientSecret{ClientID: "pc_ignored", SecretHash: "hash-2"}, &until, credActor)
		testdb.Must(t, err, "rotate with overlap")
		if p.ClientID != "pc_erp" || p.Version != 2 {
			t.Fatalf("rotate kept client id %q, version %d; want pc_erp, 2", p.ClientID, p.Version)
		}
		stored, err := st.PluginBySlug(ctx, tn.ID, "erp")
		testdb.Must(t, err, "reload")
		tests := []struct {
			name string
			hash string
			at   time.Time
			want bool
		}{
			{"new secret now", "hash-2", now, true},
			{"old secret inside the overlap", "hash-1", now.Add(23 * time.Hour), true},
			{"old secret after the overlap", "hash-1", now.Add(24*time.Hour + time.Second), false},
			{"new secret after the overlap", "hash-2", now.Add(48 * time.Hour), true},
			{"unknown secret", "hash-x", now, false},
		}
		for _, tc := range tests {
			if got := stored.ClientSecretMatches(tc.hash, tc.at); got != tc.want {
				t.Errorf("%s: matches = %v, want %v", tc.name, got, tc.want)
			}
		}

		// A second rotation drops the first secret at once, overlap or not.
		_, err = st.RotateClientSecret(ctx, tn.ID, "erp", storage.NewClientSecret{SecretHash: "hash-3"}, &until, credActor)
		testdb.Must(t, err, "second rotation")
		stored, err = st.PluginBySlug(ctx, tn.ID, "erp")
		testdb.Must(t, err, "reload")
		if stored.ClientSecretMatches("hash-1", now) || !stored.ClientSecretMatches("hash-2", now) || !stored.ClientSecretMatches("hash-3", now) {
			t.Errorf("after two rotations want only hash-2 (overlap) and hash-3 valid")
		}

		// Without an overlap the replaced secret stops at once.
		_, err = st.RotateClientSecret(ctx, tn.ID, "erp", storage.NewClientSecret{SecretHash: "hash-4"}, nil, credActor)
		testdb.Must(t, err, "rotate without overlap")
		stored, err = st.PluginBySlug(ctx, tn.ID, "erp")
		testdb.Must(t, err, "reload")
		if stored.ClientSecretMatches("hash-3", now) || !stored.ClientSecretMatches("hash-4", now) || stored.PreviousSecretExpiresAt != nil {
			t.Errorf("rotation without overlap: old secret must stop at once")
		}

		// A token plugin without credentials gets a client ID, no overlap.
		p, err = st.RotateClientSecret(ctx, tn.ID, "legado", storage.NewClientSecret{ClientID: "pc_new", SecretHash: "hash-l"}, &until, credActor)
		testdb.Must(t, err, "issue credentials")
		if p.ClientID != "pc_new" || p.PreviousClientSecretHash != "" || p.PreviousSecretExpiresAt != nil {
			t.Errorf("issued credentials: client id %q, previous %q", p.ClientID, p.PreviousClientSecretHash)
		}

		errs := []struct {
			name   string
			tenant string
			slug   string
			want   error
		}{
			{"no token authentication", tn.ID, "aberto", storage.ErrNotTokenPlugin},
			{"unknown plugin", tn.ID, "nenhum", model.ErrNotFound},
			{"another tenant's plugin", other.ID, "erp", model.ErrNotFound},
		}
		for _, tc := range errs {
			_, err := st.RotateClientSecret(ctx, tc.tenant, tc.slug, storage.NewClientSecret{ClientID: "pc_z", SecretHash: "hash-z"}, &until, credActor)
			if !errors.Is(err, tc.want) {
				t.Errorf("%s: err = %v, want %v", tc.name, err, tc.want)
			}
		}

		// The audit entry names the rotation and never a hash.
		entries, err := st.AuditLog(ctx, tn.ID, model.AuditFilter{Action: "plugin.client_secret.rotate"})
		testdb.Must(t, err, "audit log")
		if len(entries) != 4 {
			t.Fatalf("rotation audit entries = %d, want 4", len(entries))
		}
		for _, e := range entries {
			if strings.Contains(e.BeforeJSON+e.AfterJSON, "hash-") {
				t.Errorf("audit entry leaks a secret hash: %s → %s", e.BeforeJSON, e.AfterJSON)
			}
		}
	})
}

func TestUpdatePluginAccess(t *testing.T) {
	forEachDriver(t, func(t *testing.T, st *storage.Store) {
		ctx := context.Background()
		tn := newTenant(t, st, "acc", "acc.test")
		p := newPlugin("erp", 10)
		testdb.Must(t, st.CreatePlugin(ctx, tn.ID, p, credActor), "create plugin")

		got, err := st.UpdatePluginAccess(ctx, tn.ID, "erp", 1, credActor, func(p *model.Plugin) error {
			p.UserFields = model.StringList{model.UserFieldName, model.UserFieldEmail}
			p.TokenTTLSeconds = 120
			p.LaunchMethod = model.LaunchGet
			return nil
		})
		testdb.Must(t, err, "update access")
		if got.Version != 2 {
			t.Errorf("version = %d, want 2", got.Version)
		}
		stored, err := st.PluginBySlug(ctx, tn.ID, "erp")
		testdb.Must(t, err, "reload")
		if !stored.HasUserField(model.UserFieldEmail) || stored.HasUserField(model.UserFieldDocument) ||
			stored.TokenTTLSeconds != 120 || stored.LaunchMethod != model.LaunchGet || stored.Name != "erp" {
			t.Errorf("stored access = %+v", stored)
		}

		// A stale version changes nothing; a failed validation neither.
		_, err = st.UpdatePluginAccess(ctx, tn.ID, "erp", 1, credActor, func(p *model.Plugin) error { p.TokenTTLSeconds = 30; return nil })
		if !errors.Is(err, storage.ErrStale) {
			t.Errorf("stale update: err = %v, want ErrStale", err)
		}
		verr := &model.ValidationError{}
		verr.Add("token_ttl_seconds", "out_of_range")
		_, err = st.UpdatePluginAccess(ctx, tn.ID, "erp", 2, credActor, func(p *model.Plugin) error { p.TokenTTLSeconds = 9; return verr })
		if _, ok := model.AsValidation(err); !ok {
			t.Errorf("invalid update: err = %v, want a validation error", err)
		}
		stored, err = st.PluginBySlug(ctx, tn.ID, "erp")
		testdb.Must(t, err, "reload")
		if stored.TokenTTLSeconds != 120 || stored.Version != 2 {
			t.Errorf("a refused update changed the plugin: ttl %d, version %d", stored.TokenTTLSeconds, stored.Version)
		}

		entries, err := st.AuditLog(ctx, tn.ID, model.AuditFilter{Action: "plugin.access"})
		testdb.Must(t, err, "audit")
		if len(entries) != 1 {
			t.Fatalf("access audit entries = %d, want 1", len(entries))
		}
		var before, after map[string]any
		testdb.Must(t, json.Unmarshal([]byte(entries[0].BeforeJSON), &before), "before")
		testdb.Must(t, json.Unmarshal([]byte(entries[0].AfterJSON), &after), "after")
		if before["launch_method"] != "post" || after["launch_method"] != "get" || after["token_ttl_seconds"] != float64(120) {
			t.Errorf("audit before %v after %v", before, after)
		}
	})
}
