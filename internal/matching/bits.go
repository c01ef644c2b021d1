package matching

import "strings"

// The planner holds every person's choices against every worker of their
// team: with a thousand workers in one team that is ten million pairs, so
// each set of codes (languages, themes, places, days, times) is turned once
// into a bit set, and a pair is a few ANDs. eval on Facts is the meaning;
// evalBits must agree with it (TestCompareAgreesWithThePlanner).

// codeBits gives each code its bit, up to 64 codes; past that ok is false
// and the planner compares those pairs the slow way.
type codeBits map[string]uint

func (cb codeBits) mask(xs []string, lower bool) (m uint64, ok bool) {
	ok = true
	for _, x := range xs {
		if lower {
			x = strings.ToLower(x)
		}
		b, found := cb[x]
		if !found {
			if len(cb) >= 64 {
				ok = false
				continue
			}
			b = uint(len(cb))
			cb[x] = b
		}
		m |= 1 << b
	}
	return m, ok
}

// dicts are the bit numbering of one plan.
type dicts struct{ lang, theme, place, day, time codeBits }

func newDicts() *dicts {
	return &dicts{lang: codeBits{}, theme: codeBits{}, place: codeBits{}, day: codeBits{}, time: codeBits{}}
}

// workerBits is a worker's Facts as bit sets.
type workerBits struct {
	id                             int64
	gender                         string
	lang, theme, place, day, times uint64
	ok                             bool
}

func (d *dicts) worker(f *Facts) workerBits {
	wb := workerBits{id: f.ID, gender: f.Gender, ok: true}
	var ok [5]bool
	wb.lang, ok[0] = d.lang.mask(f.Languages, true)
	wb.theme, ok[1] = d.theme.mask(f.Themes, false)
	wb.place, ok[2] = d.place.mask(f.Places, false)
	wb.day, ok[3] = d.day.mask(f.Days, false)
	wb.times, ok[4] = d.time.mask(f.Times, false)
	for _, o := range ok {
		wb.ok = wb.ok && o
	}
	return wb
}

// personBits are a person's criteria as bit sets, aligned with pc.crit.
type personBits struct {
	masks []uint64
	ok    bool
}

func (d *dicts) person(pc *personCriteria) personBits {
	pb := personBits{masks: make([]uint64, len(pc.crit)), ok: true}
	for i, c := range pc.crit {
		var m uint64
		ok := true
		switch c.Kind {
		case KindLanguage:
			m, ok = d.lang.mask(pc.languages, false)
		case KindTheme:
			m, ok = d.theme.mask([]string{c.Code}, false)
		case KindPlace:
			m, ok = d.place.mask(pc.places, false)
		case KindDay:
			m, ok = d.day.mask(pc.days, false)
		case KindTime:
			m, ok = d.time.mask(pc.times, false)
		}
		pb.masks[i] = m
		pb.ok = pb.ok && ok
	}
	return pb
}

// evalBits is eval on bit sets; it falls back to eval when a set did not
// fit in 64 codes.
func (pc *personCriteria) evalBits(pb *personBits, wb *workerBits, f *Facts) (met uint64, acceptable bool, score int) {
	if !pb.ok || !wb.ok {
		return pc.eval(f)
	}
	acceptable = true
	sharesTheme := false
	for i := range pc.crit {
		c := &pc.crit[i]
		var ok bool
		switch c.Kind {
		case KindSameWorker:
			ok = wb.id == pc.previous
		case KindGender:
			ok = wb.gender == pc.gender
		case KindLanguage:
			ok = pb.masks[i]&wb.lang != 0
		case KindTheme:
			ok = pb.masks[i]&wb.theme != 0
			sharesTheme = sharesTheme || ok
		case KindPlace:
			ok = pb.masks[i]&wb.place != 0
		case KindDay:
			ok = pb.masks[i]&wb.day != 0
		case KindTime:
			ok = pb.masks[i]&wb.times != 0
		}
		if ok {
			met |= 1 << i
			if c.Kind == KindSameWorker {
				score += 1 << 16
			} else {
				score++
			}
		} else if c.Must && c.Kind != KindTheme {
			acceptable = false
		}
	}
	if pc.themesMust && len(pc.themes) > 0 && !sharesTheme {
		acceptable = false
	}
	return met, acceptable, score
}
