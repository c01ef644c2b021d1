package account_test

import (
	"context"
	"strings"
	"testing"

	"github.com/mutualhq/mutual/internal/account"
)

// Real accounts are hashed at OWASP's minimum argon2id cost; the cheap test
// hasher's hashes are real argon2id hashes that either hasher checks.
func TestHasherCost(t *testing.T) {
	ctx := context.Background()
	prod, cheap := account.NewHasher(), account.NewTestHasher()
	h, err := prod.Hash(ctx, "correct horse battery")
	if err != nil {
		t.Fatal(err)
	}
	if !strings.HasPrefix(h, "$argon2id$v=19$m=19456,t=2,p=1$") {
		t.Errorf("production hash %q is not argon2id at m=19456,t=2,p=1", h)
	}
	c, err := cheap.Hash(ctx, "correct horse battery")
	if err != nil {
		t.Fatal(err)
	}
	if !strings.HasPrefix(c, "$argon2id$v=19$m=8,t=1,p=1$") {
		t.Errorf("test hash %q is not argon2id at m=8,t=1,p=1", c)
	}
	for _, enc := range []string{h, c} {
		for _, hs := range []*account.Hasher{prod, cheap} {
			if ok, err := hs.Verify(ctx, "correct horse battery", enc); err != nil || !ok {
				t.Errorf("%q does not verify: %v", enc, err)
			}
			if ok, _ := hs.Verify(ctx, "wrong horse battery", enc); ok {
				t.Errorf("%q verifies a wrong password", enc)
			}
		}
	}
}
