package ui

import (
	"bytes"
	"fmt"
	"html/template"
	"io"
	"io/fs"
	"maps"
	"path"
	"slices"
	"strings"
	"sync"

	"github.com/mutualhq/mutual/internal/memo"
)

// Renderer draws full pages (a page template inside the layout) and single
// partials. It is safe for concurrent use once built.
type Renderer struct {
	base  *template.Template            // layout, partials and shared page partials
	pages map[string]*template.Template // page name → its own copy of base plus the page

	// navs keeps the header navigation drawn for each distinct list of
	// links: there are few (one per set of roles and current section), and
	// it is most of the work of drawing the layout.
	navs memo.Map[string, template.HTML]
}

func (r *Renderer) nav(items []NavItem) (template.HTML, error) {
	if len(items) == 0 {
		return "", nil
	}
	var k strings.Builder
	for _, it := range items {
		k.WriteString(it.Href)
		k.WriteByte(0)
		k.WriteString(it.Label)
		if it.Current {
			k.WriteByte(1)
		}
		k.WriteByte(0)
	}
	key := k.String()
	if h, ok := r.navs.Get(key, 0); ok {
		return h, nil
	}
	var b strings.Builder
	if err := r.base.ExecuteTemplate(&b, "ui-nav", items); err != nil {
		return "", fmt.Errorf("ui: render navigation: %w", err)
	}
	h := template.HTML(b.String()) //nolint:gosec // the output of html/template
	r.navs.Put(key, h)
	return h, nil
}

// NewRenderer parses the layout and partials of this package, then every
// *.html file in pages. Each page file defines {{define "content"}} (and
// may define "head" or any template of its own) and becomes a page named
// by its path without ".html", such as "home" or "admin/users"; each page
// gets its own template set, so pages' "content" blocks do not clash. A
// file whose name starts with "_" (such as "_referral.html") holds
// partials shared by every page and is not a page itself. extra adds
// functions to Funcs (each capability may give its own map). It fails if a
// name is given twice, in Funcs or in extra (one would silently replace
// the other on every page that uses it),
// any template does not parse, two shared files define the same template,
// or pages is empty.
func NewRenderer(pages fs.FS, extra ...template.FuncMap) (*Renderer, error) {
	funcs := Funcs()
	for _, m := range extra {
		for name, f := range m {
			if _, dup := funcs[name]; dup {
				return nil, fmt.Errorf("ui: template function %s is defined twice", name)
			}
			funcs[name] = f
		}
	}
	base, err := template.New("ui").Funcs(funcs).ParseFS(templateFiles, "templates/*.html")
	if err != nil {
		return nil, fmt.Errorf("ui: parse layout and partials: %w", err)
	}

	var pageFiles, shared []string
	err = fs.WalkDir(pages, ".", func(p string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		if d.IsDir() || path.Ext(p) != ".html" {
			return nil
		}
		if strings.HasPrefix(path.Base(p), "_") {
			shared = append(shared, p)
		} else {
			pageFiles = append(pageFiles, p)
		}
		return nil
	})
	if err != nil {
		return nil, fmt.Errorf("ui: list page templates: %w", err)
	}
	if len(pageFiles) == 0 {
		return nil, fmt.Errorf("ui: no page templates (*.html) found")
	}
	for _, p := range shared {
		if err := parseFile(base, pages, p); err != nil {
			return nil, err
		}
	}

	r := &Renderer{base: base, pages: make(map[string]*template.Template, len(pageFiles)), navs: memo.Map[string, template.HTML]{Limit: 1000}}
	for _, p := range pageFiles {
		t, err := base.Clone()
		if err != nil {
			return nil, fmt.Errorf("ui: clone templates for %s: %w", p, err)
		}
		if err := parseFile(t, pages, p); err != nil {
			return nil, err
		}
		r.pages[strings.TrimSuffix(p, ".html")] = t
	}
	return r, nil
}

func parseFile(t *template.Template, fsys fs.FS, name string) error {
	src, err := fs.ReadFile(fsys, name)
	if err != nil {
		return fmt.Errorf("ui: read %s: %w", name, err)
	}
	if _, err := t.New(name).Parse(string(src)); err != nil {
		return fmt.Errorf("ui: parse %s: %w", name, err)
	}
	return nil
}

// Pages lists the names of the pages the renderer knows, sorted.
func (r *Renderer) Pages() []string {
	return slices.Sorted(maps.Keys(r.pages))
}

// Has reports whether there is a page of that name.
func (r *Renderer) Has(page string) bool {
	_, ok := r.pages[page]
	return ok
}

// Render writes the named page inside the layout. The page is rendered in
// full before anything is written, so a template error never sends half a
// page; it fails if there is no such page, a template fails, or w does.
func (r *Renderer) Render(w io.Writer, page string, p *Page) error {
	t, ok := r.pages[page]
	if !ok {
		return fmt.Errorf("ui: no page template %q", page)
	}
	if p == nil {
		p = &Page{}
	}
	nav, err := r.nav(p.Nav)
	if err != nil {
		return err
	}
	p.NavHTML = nav
	buf := bufferPool.Get().(*bytes.Buffer)
	defer func() {
		if buf.Cap() <= 1<<20 {
			buf.Reset()
			bufferPool.Put(buf)
		}
	}()
	if err := t.ExecuteTemplate(buf, "layout", p); err != nil {
		return fmt.Errorf("ui: render page %q: %w", page, err)
	}
	_, err = buf.WriteTo(w)
	return err
}

// RenderContent renders only the named page's main content, for a caller
// that keeps it to pass back as Page.Content while the data it was drawn
// from is unchanged.
func (r *Renderer) RenderContent(page string, p *Page) (template.HTML, error) {
	t, ok := r.pages[page]
	if !ok {
		return "", fmt.Errorf("ui: no page template %q", page)
	}
	var b strings.Builder
	if err := t.ExecuteTemplate(&b, "content", p); err != nil {
		return "", fmt.Errorf("ui: render content of %q: %w", page, err)
	}
	return template.HTML(b.String()), nil //nolint:gosec // the output of html/template
}

// bufferPool reuses render buffers: a page is rendered in full before any
// of it is sent, and pages are similar in size.
var bufferPool = sync.Pool{New: func() any { return new(bytes.Buffer) }}

// RenderPartial writes one template (a ui-* partial, or a template from a
// shared "_" file) with data, for fragments and tests. Like Render, it
// writes nothing if the template fails.
func (r *Renderer) RenderPartial(w io.Writer, name string, data any) error {
	t := r.base.Lookup(name)
	if t == nil {
		return fmt.Errorf("ui: no partial template %q", name)
	}
	var buf bytes.Buffer
	if err := t.Execute(&buf, data); err != nil {
		return fmt.Errorf("ui: render partial %q: %w", name, err)
	}
	_, err := buf.WriteTo(w)
	return err
}
