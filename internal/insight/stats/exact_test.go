package stats

import (
	"math/big"
	"sort"
	"testing"
)

// exactBinom is an independent reference: the Binomial(n, p) CDF computed
// with exact integer arithmetic for the exact binary value of the float64 p.
// Writing p = m/D (D a power of two), every probability is an integer
// multiple of 1/D^n, so cum[k] = Σ_{j≤k} C(n, j)·m^j·(D−m)^(n−j) over D^n.
type exactBinom struct {
	n   int
	cum []*big.Int
	den *big.Int
}

func newExactBinom(tb testing.TB, n int, p float64) *exactBinom {
	tb.Helper()
	if n < 0 || p < 0 || p > 1 {
		tb.Fatalf("newExactBinom(%d, %v): bad input", n, p)
	}
	pr := new(big.Rat).SetFloat64(p)
	m := new(big.Int).Set(pr.Num())
	d := new(big.Int).Set(pr.Denom())
	qm := new(big.Int).Sub(d, m)

	mpow := make([]*big.Int, n+1) // m^k
	qpow := make([]*big.Int, n+1) // (D−m)^k
	mpow[0], qpow[0] = big.NewInt(1), big.NewInt(1)
	for k := 1; k <= n; k++ {
		mpow[k] = new(big.Int).Mul(mpow[k-1], m)
		qpow[k] = new(big.Int).Mul(qpow[k-1], qm)
	}
	e := &exactBinom{n: n, cum: make([]*big.Int, n+1), den: new(big.Int).Exp(d, big.NewInt(int64(n)), nil)}
	binom := big.NewInt(1) // C(n, k)
	sum := new(big.Int)
	for k := 0; k <= n; k++ {
		if k > 0 {
			binom.Mul(binom, big.NewInt(int64(n-k+1)))
			binom.Quo(binom, big.NewInt(int64(k)))
		}
		term := new(big.Int).Mul(binom, mpow[k])
		term.Mul(term, qpow[n-k])
		sum.Add(sum, term)
		e.cum[k] = new(big.Int).Set(sum)
	}
	if sum.Cmp(e.den) != 0 {
		tb.Fatalf("newExactBinom(%d, %v): probabilities do not sum to 1", n, p)
	}
	return e
}

// cdf returns P(X ≤ k) exactly.
func (e *exactBinom) cdf(k int) *big.Rat {
	switch {
	case k < 0:
		return new(big.Rat)
	case k >= e.n:
		return big.NewRat(1, 1)
	}
	return new(big.Rat).SetFrac(e.cum[k], e.den)
}

// sf returns P(X > k) exactly.
func (e *exactBinom) sf(k int) *big.Rat {
	return new(big.Rat).Sub(big.NewRat(1, 1), e.cdf(k))
}

func ratFloat(r *big.Rat) float64 {
	f, _ := r.Float64()
	return f
}

// quantile returns the smallest k with P(X ≤ k) ≥ q by brute force, with q
// taken as the exact value of the float64.
func (e *exactBinom) quantile(q float64) int {
	qr := new(big.Rat).SetFloat64(q)
	// F is non-decreasing, so the first k with F(k) ≥ q can be bisected;
	// k = n always qualifies for q ≤ 1.
	return sort.Search(e.n, func(k int) bool { return e.cdf(k).Cmp(qr) >= 0 })
}

// limit evaluates Spiegelhalter's interpolated limit exactly in rationals.
func (e *exactBinom) limit(alpha float64) float64 {
	ar := new(big.Rat).SetFloat64(alpha)
	r := e.quantile(alpha)
	fr, frm1 := e.cdf(r), e.cdf(r-1)
	t := new(big.Rat).Sub(fr, ar)
	t.Quo(t, new(big.Rat).Sub(fr, frm1))
	lim := new(big.Rat).Sub(new(big.Rat).SetInt64(int64(r)), t)
	lim.Quo(lim, new(big.Rat).SetInt64(int64(e.n)))
	return clamp01(ratFloat(lim))
}
