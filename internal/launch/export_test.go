package launch

import (
	"context"
	"crypto/ed25519"
	"encoding/base64"
)

// SignRaw signs a JOSE header (header is given the signing key's kid) and
// a payload, exactly as given, with tenantID's current signing key and
// returns the compact token: the tests use it to build tokens Portico's
// key really signed but Mint would never write.
func (s *Service) SignRaw(ctx context.Context, tenantID string, header func(kid string) []byte, payload []byte) (string, error) {
	k, err := s.signingKey(ctx, tenantID)
	if err != nil {
		return "", err
	}
	enc := base64.RawURLEncoding
	in := enc.EncodeToString(header(k.row.KID)) + "." + enc.EncodeToString(payload)
	return in + "." + enc.EncodeToString(ed25519.Sign(k.priv, []byte(in))), nil
}
