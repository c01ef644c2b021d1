package ui

import (
	"embed"
	"io/fs"
)

// Static holds the built assets under "static/": css/mutual.css,
// js/mutual.js, js/nhsuk-frontend.min.js and images/. Serve StaticFS at
// /assets/ — the stylesheet refers to its images as /assets/images/NAME.
//
//go:embed static
var Static embed.FS

//go:embed templates/*.html
var templateFiles embed.FS

// StaticFS is Static rooted at the static folder, ready to serve at
// /assets/ (for example with http.StripPrefix("/assets/",
// http.FileServerFS(ui.StaticFS()))).
func StaticFS() fs.FS {
	sub, err := fs.Sub(Static, "static")
	if err != nil {
		panic("ui: " + err.Error()) // cannot happen: "static" is a valid path
	}
	return sub
}
