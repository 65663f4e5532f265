// Command binsize prints a Go binary's size by module: the sizes of its
// symbols in the file (the ELF symbol table, less bss) added up by the
// module their package belongs to (go version -m), largest first, as a
// Markdown table. What no module owns
// (the function table, string data, runtime tables) is its own row.
//
//	binsize BINARY
package main

import (
	"debug/elf"
	"fmt"
	"os"
	"os/exec"
	"slices"
	"strings"
)

func main() {
	if len(os.Args) != 2 {
		fmt.Fprintln(os.Stderr, "usage: binsize BINARY")
		os.Exit(2)
	}
	bin := os.Args[1]
	fi, err := os.Stat(bin)
	check(err)
	modules := modulesOf(bin)
	f, err := elf.Open(bin)
	check(err)
	syms, err := f.Symbols()
	check(err)
	sizes := map[string]int64{}
	var total int64
	for _, s := range syms {
		if s.Size == 0 || int(s.Section) >= len(f.Sections) || s.Section == elf.SHN_UNDEF {
			continue
		}
		if f.Sections[s.Section].Type == elf.SHT_NOBITS {
			continue // bss: zeroed memory at run time, no room in the file
		}
		mod := moduleOf(packageOf(s.Name), modules)
		if strings.HasPrefix(s.Name, "go:") && !strings.HasPrefix(s.Name, "go:itab.") {
			mod = moduleOf("", nil) // string data, function metadata
		}
		sizes[mod] += int64(s.Size)
		total += int64(s.Size)
	}
	type row struct {
		mod  string
		size int64
	}
	var rows []row
	for m, s := range sizes {
		rows = append(rows, row{m, s})
	}
	slices.SortFunc(rows, func(a, b row) int { return int(b.size - a.size) })
	mb := func(n int64) string { return fmt.Sprintf("%.2f", float64(n)/(1<<20)) }
	fmt.Printf("| module | MB | share of symbols |\n|---|---:|---:|\n")
	var small int64
	for _, r := range rows {
		if r.size < 20<<10 {
			small += r.size
			continue
		}
		fmt.Printf("| %s | %s | %.1f%% |\n", r.mod, mb(r.size), 100*float64(r.size)/float64(total))
	}
	fmt.Printf("| (modules under 20 KB each) | %s | %.1f%% |\n", mb(small), 100*float64(small)/float64(total))
	fmt.Printf("| **symbols in all** | %s | |\n", mb(total))
	var debug, pcln uint64
	for _, s := range f.Sections {
		switch {
		case strings.HasPrefix(s.Name, ".debug_") || strings.HasPrefix(s.Name, ".zdebug_"):
			debug += s.FileSize
		case s.Name == ".gopclntab":
			pcln += s.FileSize
		}
	}
	fmt.Printf("| function table (.gopclntab: names, lines, stack maps) | %s | |\n", mb(int64(pcln)))
	fmt.Printf("| debug info (DWARF; -ldflags=-w leaves it out) | %s | |\n", mb(int64(debug)))
	fmt.Printf("| **file** | %s | |\n", mb(fi.Size()))
}

// modulesOf lists the modules bin was built from, the main one first.
func modulesOf(bin string) []string {
	out, err := exec.Command("go", "version", "-m", bin).Output()
	check(err)
	var mods []string
	for _, l := range strings.Split(string(out), "\n") {
		f := strings.Fields(l)
		if len(f) >= 2 && (f[0] == "mod" || f[0] == "dep") {
			mods = append(mods, f[1])
		}
	}
	return mods
}

// packageOf is the import path of the package a symbol belongs to, "" for
// none.
func packageOf(sym string) string {
	for _, p := range []string{"type:", "go:itab.", "go:", ".eq.", ".hash."} {
		sym = strings.TrimPrefix(sym, p)
	}
	sym = strings.TrimLeft(sym, "*[]")
	if i := strings.IndexByte(sym, ','); i >= 0 { // an itab: its type's package
		sym = sym[:i]
	}
	if i := strings.IndexAny(sym, "[("); i >= 0 {
		sym = sym[:i]
	}
	slash := strings.LastIndexByte(sym, '/')
	dot := strings.IndexByte(sym[slash+1:], '.')
	if dot < 0 {
		return ""
	}
	return sym[:slash+1+dot]
}

func moduleOf(pkg string, modules []string) string {
	if pkg == "" {
		return "(no package: runtime tables, strings)"
	}
	best := ""
	for _, m := range modules {
		if (pkg == m || strings.HasPrefix(pkg, m+"/")) && len(m) > len(best) {
			best = m
		}
	}
	if best != "" {
		return best
	}
	if strings.HasPrefix(pkg, "vendor/") || !strings.Contains(strings.SplitN(pkg, "/", 2)[0], ".") {
		return "Go standard library"
	}
	return "(other) " + pkg
}

func check(err error) {
	if err != nil {
		fmt.Fprintln(os.Stderr, "binsize:", err)
		os.Exit(1)
	}
}
