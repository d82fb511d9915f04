package secret

import (
	"bytes"
	"os"
	"path/filepath"
	"testing"
)

func TestSealOpen(t *testing.T) {
	key := bytes.Repeat([]byte{7}, KeySize)
	b, err := New(key)
	if err != nil {
		t.Fatal(err)
	}
	sealed, err := b.Seal("t1", "p1", "erp_token", []byte("s3cr3t"))
	if err != nil {
		t.Fatal(err)
	}
	if bytes.Contains(sealed, []byte("s3cr3t")) {
		t.Fatal("plaintext visible in ciphertext")
	}
	again, _ := b.Seal("t1", "p1", "erp_token", []byte("s3cr3t"))
	if bytes.Equal(sealed, again) {
		t.Fatal("two seals are equal: nonce reuse")
	}
	got, err := b.Open("t1", "p1", "erp_token", sealed)
	if err != nil || string(got) != "s3cr3t" {
		t.Fatalf("Open = %q, %v", got, err)
	}
	for _, moved := range [][3]string{{"t2", "p1", "erp_token"}, {"t1", "p2", "erp_token"}, {"t1", "p1", "other"}} {
		if _, err := b.Open(moved[0], moved[1], moved[2], sealed); err == nil {
			t.Fatalf("ciphertext opened at %v", moved)
		}
	}
	tampered := append([]byte{}, sealed...)
	tampered[len(tampered)-1] ^= 1
	if _, err := b.Open("t1", "p1", "erp_token", tampered); err == nil {
		t.Fatal("tampered ciphertext opened")
	}
	if _, err := b.Open("t1", "p1", "erp_token", []byte{1, 2}); err == nil {
		t.Fatal("short ciphertext opened")
	}
	other, _ := New(bytes.Repeat([]byte{8}, KeySize))
	if _, err := other.Open("t1", "p1", "erp_token", sealed); err == nil {
		t.Fatal("opened under another key")
	}
}

func TestKeyFile(t *testing.T) {
	path := filepath.Join(t.TempDir(), "sub", "secret.key")
	k1, err := LoadOrCreateKeyFile(path)
	if err != nil || len(k1) != KeySize {
		t.Fatalf("create: %v", err)
	}
	st, err := os.Stat(path)
	if err != nil || st.Mode().Perm() != 0o600 {
		t.Fatalf("mode %v, %v", st.Mode(), err)
	}
	k2, err := LoadOrCreateKeyFile(path)
	if err != nil || !bytes.Equal(k1, k2) {
		t.Fatal("key not stable across loads")
	}
	if _, err := ParseKey("c2hvcnQ="); err == nil {
		t.Fatal("short key accepted")
	}
}
