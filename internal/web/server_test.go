package web

import (
	"html/template"
	"strings"
	"testing"
	"testing/fstest"

	"github.com/mutualhq/mutual/internal/web/ui"
)

// Two capabilities giving a template function the same name would have one
// silently replace the other on every page (it happened once: recovery's
// "percent" rounded matching's shares). The renderer refuses it, for the
// maps the server gives it and for any two given together.
func TestTemplateFunctionNamesAreUnique(t *testing.T) {
	pages := fstest.MapFS{"home.html": {Data: []byte(`{{define "content"}}<h1>Home</h1>{{end}}`)}}
	if _, err := ui.NewRenderer(pages, (&Server{}).allTemplateFuncs()...); err != nil {
		t.Fatal(err)
	}
	_, err := ui.NewRenderer(pages, template.FuncMap{"shareOf": strings.ToUpper}, template.FuncMap{"shareOf": strings.ToLower})
	if err == nil || !strings.Contains(err.Error(), "shareOf is defined twice") {
		t.Fatalf("err = %v, want the name given twice refused", err)
	}
}
