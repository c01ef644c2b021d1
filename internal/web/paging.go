package web

import (
	"net/url"
	"strconv"
)

// Pager is a list's paging: where this page starts and ends in the whole
// list, and the links to other pages (NHS.UK numbered pagination).
type Pager struct {
	From, To, Total int
	Prev, Next      string
	Pages           []PageLink
}

// PageLink is one numbered link, or an ellipsis between them.
type PageLink struct {
	Number   int
	Href     string
	Current  bool
	Ellipsis bool
}

// Many reports whether there is more than one page.
func (p Pager) Many() bool { return p.Prev != "" || p.Next != "" }

// pager builds the paging of a list of total items shown limit at a time
// from offset, linking to path with the query q and "offset" set. It
// numbers the first and last pages and those next to the current one.
func pager(path string, q url.Values, total, limit, offset, shown int) Pager {
	if limit <= 0 {
		limit = 50
	}
	p := Pager{Total: total}
	if shown > 0 {
		p.From, p.To = offset+1, offset+shown
	}
	href := func(off int) string {
		v := url.Values{}
		for k, vs := range q {
			if k != "offset" {
				v[k] = vs
			}
		}
		if off > 0 {
			v.Set("offset", strconv.Itoa(off))
		}
		if len(v) == 0 {
			return path
		}
		return path + "?" + v.Encode()
	}
	if offset > 0 {
		p.Prev = href(max(0, offset-limit))
	}
	if offset+shown < total {
		p.Next = href(offset + limit)
	}
	if !p.Many() {
		return p
	}
	pages := (total + limit - 1) / limit
	current := offset/limit + 1
	last := 0
	for n := 1; n <= pages; n++ {
		if n != 1 && n != pages && (n < current-1 || n > current+1) {
			continue
		}
		if last != 0 && n > last+1 {
			p.Pages = append(p.Pages, PageLink{Ellipsis: true})
		}
		p.Pages = append(p.Pages, PageLink{Number: n, Href: href((n - 1) * limit), Current: n == current})
		last = n
	}
	return p
}
