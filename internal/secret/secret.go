// Package secret encrypts plugin secrets at rest with AES-256-GCM.
//
// The key comes from PORTICO_SECRET_KEY (32 random bytes, base64) or, for
// the demo, from a file generated once in the data directory. Each value is
// sealed with a fresh random nonce and bound to where it belongs (tenant,
// plugin, name) as additional data, so a ciphertext copied to another row
// does not decrypt.
package secret

import (
	"crypto/aes"
	"crypto/cipher"
	"crypto/rand"
	"encoding/base64"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
)

// KeySize is the AES-256 key length in bytes.
const KeySize = 32

// Box seals and opens secret values.
type Box struct {
	aead cipher.AEAD
}

// New returns a Box for a 32-byte key.
func New(key []byte) (*Box, error) {
	if len(key) != KeySize {
		return nil, fmt.Errorf("secret key must be %d bytes, got %d", KeySize, len(key))
	}
	block, err := aes.NewCipher(key)
	if err != nil {
		return nil, fmt.Errorf("aes: %w", err)
	}
	aead, err := cipher.NewGCM(block)
	if err != nil {
		return nil, fmt.Errorf("gcm: %w", err)
	}
	return &Box{aead: aead}, nil
}

// ParseKey decodes a base64 (standard or URL, padded or not) key.
func ParseKey(s string) ([]byte, error) {
	s = strings.TrimSpace(s)
	for _, enc := range []*base64.Encoding{base64.StdEncoding, base64.RawStdEncoding, base64.URLEncoding, base64.RawURLEncoding} {
		if b, err := enc.DecodeString(s); err == nil {
			if len(b) != KeySize {
				return nil, fmt.Errorf("decoded key is %d bytes, want %d", len(b), KeySize)
			}
			return b, nil
		}
	}
	return nil, errors.New("not base64")
}

// LoadOrCreateKeyFile reads the key in path, creating it with 0600
// permissions and fresh random bytes when it does not exist.
func LoadOrCreateKeyFile(path string) ([]byte, error) {
	b, err := os.ReadFile(path)
	if err == nil {
		return ParseKey(string(b))
	}
	if !errors.Is(err, os.ErrNotExist) {
		return nil, fmt.Errorf("read secret key file: %w", err)
	}
	key := make([]byte, KeySize)
	if _, err := rand.Read(key); err != nil {
		return nil, fmt.Errorf("generate secret key: %w", err)
	}
	if err := os.MkdirAll(filepath.Dir(path), 0o750); err != nil {
		return nil, fmt.Errorf("create key directory: %w", err)
	}
	f, err := os.OpenFile(path, os.O_WRONLY|os.O_CREATE|os.O_EXCL, 0o600)
	if err != nil {
		if errors.Is(err, os.ErrExist) { // another process won the race
			return LoadOrCreateKeyFile(path)
		}
		return nil, fmt.Errorf("create secret key file: %w", err)
	}
	if _, err := f.WriteString(base64.StdEncoding.EncodeToString(key) + "\n"); err != nil {
		f.Close()
		return nil, fmt.Errorf("write secret key file: %w", err)
	}
	if err := f.Close(); err != nil {
		return nil, fmt.Errorf("write secret key file: %w", err)
	}
	return key, nil
}

func aad(tenantID, pluginID, name string) []byte {
	return []byte("portico-secret-v1\x00" + tenantID + "\x00" + pluginID + "\x00" + name)
}

// Seal encrypts value for (tenantID, pluginID, name): nonce || ciphertext.
func (b *Box) Seal(tenantID, pluginID, name string, value []byte) ([]byte, error) {
	nonce := make([]byte, b.aead.NonceSize())
	if _, err := rand.Read(nonce); err != nil {
		return nil, fmt.Errorf("nonce: %w", err)
	}
	return b.aead.Seal(nonce, nonce, value, aad(tenantID, pluginID, name)), nil
}

// ErrOpen means a ciphertext is corrupt, was moved, or was sealed under
// another key.
var ErrOpen = errors.New("secret cannot be decrypted")

// Open decrypts what Seal produced for the same (tenantID, pluginID, name).
func (b *Box) Open(tenantID, pluginID, name string, sealed []byte) ([]byte, error) {
	n := b.aead.NonceSize()
	if len(sealed) < n+b.aead.Overhead() {
		return nil, ErrOpen
	}
	out, err := b.aead.Open(nil, sealed[:n], sealed[n:], aad(tenantID, pluginID, name))
	if err != nil {
		return nil, ErrOpen
	}
	return out, nil
}
