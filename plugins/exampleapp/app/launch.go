package app

import "github.com/portico-dev/portico/plugins/launchkit"

// Steps 2 and 3 of a launch, the token's offline check (launchkit.Verifier)
// and its exchange for the user (launchkit.Exchanger), live in package
// plugins/launchkit, which the loyalty app shares; app.go calls them
// through a launchkit.Client. These aliases keep the names this package
// has always exported.
type (
	// Claims are the launch token's claims.
	Claims = launchkit.Claims
	// PorticoClaims is the token's "portico" claim object.
	PorticoClaims = launchkit.PorticoClaims
	// TokenError is a refused token, in the exchange's vocabulary.
	TokenError = launchkit.TokenError
	// User is the exchange's answer.
	User = launchkit.User
	// Exchanger calls the portal's exchange.
	Exchanger = launchkit.Exchanger
	// Verifier checks tokens offline against the portal's JWKS.
	Verifier = launchkit.Verifier
)
