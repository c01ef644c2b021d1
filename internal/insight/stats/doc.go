// Package stats holds the pure statistical functions behind Mutual's
// insight pages: exact binomial tails and quantiles, funnel-plot control
// limits and classification for spotting inadvertent gatekeeping, rate
// ratios and exact confidence intervals for equity of access, waiting-time
// summaries, and statistical disclosure control for published counts.
//
// Everything here works on plain values, allocates little, never panics on
// bad input (it returns NaN, an "undefined" flag or a documented sentinel
// instead) and uses only the Go standard library.
//
// Method choices, in one place:
//
//   - Binomial tails are computed as regularized incomplete beta functions
//     I_x(a, b) by the continued fraction (modified Lentz), with the
//     prefactor x^a(1−x)^b/B(a,b) evaluated by Loader's saddle-point
//     binomial density (stirlerr + bd0, as in R's dbinom) so that relative
//     accuracy stays near 1e−13 for n up to and beyond 1,000,000.
//   - Funnel limits follow Spiegelhalter (2005), exact binomial with the
//     interpolation between adjacent counts; classification uses exact
//     one-sided tail probabilities P(X ≤ y) and P(X ≥ y).
//   - Over-dispersion follows Spiegelhalter's multiplicative model with z
//     scores winsorised at the 10th and 90th percentiles (R type 7).
//   - Rate ratios use the Katz log method with the Haldane–Anscombe
//     correction when a cell is zero; single proportions use the exact
//     Clopper–Pearson interval.
//   - Percentiles use linear interpolation between closest ranks (R type 7).
//
// # Funnel limits and classification
//
// For a tail probability α (0.025 and 0.975 for the 95% limits, 0.001 and
// 0.999 for the 99.8% limits) and F the Binomial(n, p) CDF, FunnelLimits uses
//
//	r = BinomQuantile(α, n, p)          so F(r−1) < α ≤ F(r)
//	t = (F(r) − α) / (F(r) − F(r−1))    so 0 ≤ t < 1
//	limit = (r − t) / n, clamped to [0, 1],
//
// and then lower limits are capped at p and upper limits raised to p.  The
// unclamped limit lies in ((r−1)/n, r/n]; when np is tiny the upper value can
// fall below p (n = 1 or 2 at p = 0.01 gives r = 0 and a limit below 0).
// Raising it to p never hides a count that Classify puts above the limit,
// because any y ≤ np has P(X ≥ y) ≥ 1/2 (the binomial median is ⌊np⌋ or
// ⌈np⌉); symmetrically, capping a lower limit at p keeps the lower side in
// exact agreement with Classify.
//
// The interpolation makes the lines smooth enough to draw, but they are not
// exactly monotone in n: the limit for n+1 can be a fraction of 1/n wider
// than for n (under 0.5/n in a scan of p = 0.005…0.995 and n ≤ 2000; the
// upper 95% limit at p = 0.3 is 0.6914 for n = 3 and 0.6941 for n = 4), and
// at tiny n with extreme p the limits are degenerate (at p = 0.01 the upper
// 95% limit is p itself for n ≤ 2, because a single event is already
// significant, then 0.1 at n = 5).
//
// Classify uses the exact one-sided tail probabilities instead.  On the lower
// side the two agree exactly: a rate strictly below Lower95 (Lower998) is
// the same set of counts y as P(X ≤ y) < 0.025 (0.001).  On the upper side
// they differ by one count: a rate strictly above Upper95 means
// P(X > y) ≤ 0.025, while Classify requires the exact p-value
// P(X ≥ y) < 0.025.  The single count y = r with P(X > y) ≤ 0.025 ≤ P(X ≥ y)
// (for each level) is drawn just above the line but classified Within.  The
// UI should colour points by Class and may explain such points as
// "borderline"; in the other direction, every point classified above a limit
// is drawn above it.
//
// With over-dispersion (φ > 1, adjustment requested) the limits are the
// normal approximation p ± z·sqrt(φ·p(1−p)/n) and classification uses the same
// z thresholds, so lines and classes agree on both sides.
//
// # Disclosure control
//
// Suppressor.Count hides counts from 1 to Threshold−1 as "<Threshold" and
// rounds the rest.  Suppressor.Row adds secondary suppression, applied only
// when the row total is shown (not itself suppressed): if exactly one cell is
// primary-suppressed, or if two or more are but their values would still
// follow from the total (their hidden sum equals their number, so all are 1,
// or their number times Threshold−1, so all are at the maximum), the smallest
// other non-zero cell (the first, if tied) is hidden too, or the total when
// there is no such cell.  In such a row every hidden cell is shown as
// Withheld rather than "<Threshold": "<5" beside a Withheld cell would reveal
// that the Withheld cell is at least 5 and, when the two sum to 6, both
// values.  Rows with two or more primary cells whose sum leaves some doubt are
// left alone.
package stats
