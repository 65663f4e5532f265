package web

import (
	"fmt"
	"html/template"
	"io/fs"
	"net/url"
	"path"
	"strings"

	"misetup/api"
	"misetup/assets"
	"misetup/flows"
)

// view is what a page draws. One struct serves every page: each page reads
// the fields it needs.
type view struct {
	rq *req

	Lang   string
	Signed bool

	Title   string
	Notice  string // a line of good news or information
	Message string // the message page's body
	Back    string // where the message page's link goes
	Next    string // sign-in: where to go after
	Err     *errView
	Form    map[string]string // what was typed, drawn again (never a password)

	Challenge *api.Challenge
	Account   *api.Account
	Checkup   *flows.Checkup
	Devices   []deviceView
	Device    *deviceView
	Command   *commandView
	Storage   *storageView
	TwoStep   *twoStepView
	Handoff   *handoffView
}

// T is the catalog's text of key in the page's language.
func (v view) T(key string, args ...any) string { return v.rq.T(key, args...) }

// Val is what was typed into the field name.
func (v view) Val(name string) string { return v.Form[name] }

// Bad reports whether the page's error is about the field name.
func (v view) Bad(name string) bool { return v.Err != nil && v.Err.Field == name }

// Languages are the links to this page in every other language.
func (v view) Languages() []langLink {
	var out []langLink
	for _, tag := range assets.Languages() {
		if tag == v.Lang {
			continue
		}
		q := url.Values{"lang": {tag}}
		if v.Next != "" {
			q.Set("next", v.Next)
		}
		target := v.rq.r.URL.Path
		if v.rq.r.Method != "GET" {
			target = "/" // the answer of a form: go home in the new language
		}
		out = append(out, langLink{Tag: tag, Name: assets.Name(tag), Href: target + "?" + q.Encode()})
	}
	return out
}

// langLink is a link to the page in another language.
type langLink struct{ Tag, Name, Href string }

// Rules are the password checklist's lines.
func (v view) Rules() []string {
	var out []string
	for _, r := range flows.Rules() {
		out = append(out, v.T("pw.rule."+string(r), "min", flows.PasswordMinLen))
	}
	return out
}

// funcs are the helpers templates may call.
var funcs = template.FuncMap{
	"lower": strings.ToLower,
}

// parsePages parses the layout with each page in templates/.
func parsePages() (map[string]*template.Template, error) {
	layout, err := template.New("layout").Funcs(funcs).ParseFS(files, "templates/layout.html")
	if err != nil {
		return nil, fmt.Errorf("web: layout: %w", err)
	}
	names, err := fs.Glob(files, "templates/*.html")
	if err != nil {
		return nil, err
	}
	pages := map[string]*template.Template{}
	for _, n := range names {
		base := path.Base(n)
		if base == "layout.html" {
			continue
		}
		t, err := layout.Clone()
		if err != nil {
			return nil, err
		}
		if _, err := t.ParseFS(files, n); err != nil {
			return nil, fmt.Errorf("web: %s: %w", base, err)
		}
		pages[strings.TrimSuffix(base, ".html")] = t
	}
	return pages, nil
}
