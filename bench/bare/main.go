// Command bare is the reference program of the first-frame and memory rows:
// a bare Bubble Tea v2 program with one list (bench/baretea). ctrl+c quits.
package main

import (
	"fmt"
	"os"

	tea "charm.land/bubbletea/v2"

	"misetup/bench/baretea"
)

func main() {
	if _, err := tea.NewProgram(baretea.New()).Run(); err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
}
