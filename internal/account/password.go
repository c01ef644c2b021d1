package account

import (
	"context"
	"crypto/rand"
	"crypto/subtle"
	"encoding/base64"
	"fmt"
	"runtime"
	"strings"
	"unicode/utf8"

	"golang.org/x/crypto/argon2"
)

// Argon2id parameters (OWASP's minimum: 19 MiB, 2 passes, 1 lane).
const (
	argonMemory  = 19 * 1024
	argonTime    = 2
	argonThreads = 1
	argonKeyLen  = 32
)

// Hasher hashes and checks passwords with argon2id. Each hash takes about
// 19 MiB and 0.2 s of one core, so only a few run at once: the rest wait,
// which keeps a burst of sign-ins from exhausting memory.
type Hasher struct {
	slots chan struct{}
	// memory (KiB) and passes are the argon2id cost of new hashes; checks
	// use the cost recorded in each hash.
	memory, passes uint32
	// dummy is a real hash of a random password, checked when an email is
	// unknown so that answer takes as long as a wrong password.
	dummy string
}

// NewHasher allows one hash per CPU at a time.
func NewHasher() *Hasher { return newHasher(argonMemory, argonTime) }

// NewTestHasher is a Hasher at argon2id's lowest cost (8 KiB, one pass),
// for test fixtures that create and sign in many accounts: its hashes are
// real argon2id hashes, checked by the same code, but far too cheap to
// protect a real password. Never use it outside tests; the production
// parameters are tested with NewHasher.
func NewTestHasher() *Hasher { return newHasher(8*argonThreads, 1) }

func newHasher(memory, passes uint32) *Hasher {
	h := &Hasher{slots: make(chan struct{}, max(1, runtime.NumCPU())), memory: memory, passes: passes}
	h.dummy = h.hash(randomString(16))
	return h
}

func (h *Hasher) acquire(ctx context.Context) error {
	select {
	case h.slots <- struct{}{}:
		return nil
	case <-ctx.Done():
		return ctx.Err()
	}
}

func (h *Hasher) release() { <-h.slots }

// Hash returns an encoded argon2id hash. It fails only if ctx ends while
// waiting for a slot.
func (h *Hasher) Hash(ctx context.Context, password string) (string, error) {
	if err := h.acquire(ctx); err != nil {
		return "", err
	}
	defer h.release()
	return h.hash(password), nil
}

func (h *Hasher) hash(password string) string {
	salt := make([]byte, 16)
	_, _ = rand.Read(salt)
	key := argon2.IDKey([]byte(password), salt, h.passes, h.memory, argonThreads, argonKeyLen)
	b64 := base64.RawStdEncoding
	return fmt.Sprintf("$argon2id$v=%d$m=%d,t=%d,p=%d$%s$%s", argon2.Version, h.memory, h.passes, argonThreads,
		b64.EncodeToString(salt), b64.EncodeToString(key))
}

// Verify reports whether password matches encoded. An empty or malformed
// encoded hash checks against a dummy hash and answers false, taking the
// same time as a real check.
func (h *Hasher) Verify(ctx context.Context, password, encoded string) (bool, error) {
	if err := h.acquire(ctx); err != nil {
		return false, err
	}
	defer h.release()
	ok := verify(password, encoded)
	if encoded == "" || !strings.HasPrefix(encoded, "$argon2id$") {
		verify(password, h.dummy)
		return false, nil
	}
	return ok, nil
}

func verify(password, encoded string) bool {
	parts := strings.Split(encoded, "$")
	if len(parts) != 6 || parts[1] != "argon2id" {
		return false
	}
	var m, t uint32
	var p uint8
	if _, err := fmt.Sscanf(parts[3], "m=%d,t=%d,p=%d", &m, &t, &p); err != nil || m > 256*1024 || t > 10 || p == 0 {
		return false
	}
	b64 := base64.RawStdEncoding
	salt, err := b64.DecodeString(parts[4])
	if err != nil {
		return false
	}
	want, err := b64.DecodeString(parts[5])
	if err != nil {
		return false
	}
	got := argon2.IDKey([]byte(password), salt, t, m, p, uint32(len(want)))
	return subtle.ConstantTimeCompare(got, want) == 1
}

var commonPasswords = map[string]bool{
	"password1234": true, "password123!": true, "qwertyuiop": true, "1234567890": true, "letmein123": true,
	"iloveyou123": true, "welcome123": true, "password12": true, "0987654321": true, "qwerty1234": true,
	"passwordpassword": true, "abcdefghij": true, "1111111111": true, "mutual1234": true, "changeme123": true,
}

// CheckPassword returns a problem message for an unacceptable new password,
// or "" when it is acceptable. Length matters more than character rules
// (NCSC guidance), so there are none.
func CheckPassword(password, email string) string {
	n := utf8.RuneCountInString(password)
	switch {
	case n == 0:
		return "Enter a password"
	case n < 10:
		return "Password must be 10 characters or more"
	case n > 128:
		return "Password must be 128 characters or fewer"
	case !utf8.ValidString(password):
		return "Password contains characters that cannot be used"
	case strings.EqualFold(password, email) || commonPasswords[strings.ToLower(password)]:
		return "Choose a password that is harder to guess"
	}
	return ""
}

func randomString(nBytes int) string {
	b := make([]byte, nBytes)
	_, _ = rand.Read(b)
	return base64.RawURLEncoding.EncodeToString(b)
}
