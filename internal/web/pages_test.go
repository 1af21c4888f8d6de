package web_test

import (
	"embed"
	"io/fs"
)

//go:embed testdata/*.html
var testdata embed.FS

var testPages = func() fs.FS {
	sub, err := fs.Sub(testdata, "testdata")
	if err != nil {
		panic(err)
	}
	return sub
}()
