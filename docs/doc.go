// Package docs holds Portico's documentation (the Markdown files beside
// this one) and the tests that run it: tutorial_test.go does what
// plugin-tutorial.md tells an integrator to do, from an empty directory
// outside the repository, so the tutorial cannot drift from the product.
// The package has no code of its own.
package docs
