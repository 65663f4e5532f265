package ui

import (
	"context"
	"errors"
	"slices"
	"strconv"
	"strings"
	"sync"
	"time"

	"charm.land/huh/v2"
	"github.com/charmbracelet/x/ansi"

	"misetup/flows"
)

// errBack leaves a page in plain mode (its menu's "Back", or no to "Try
// again?").
var errBack = errors.New("back")

// runPages walks pages as plain prompts, starting at first: the same steps
// stepView draws full screen, asked one field after another. It returns
// when the first page is left.
func (p *plain) runPages(first page) error {
	stack := []page{first}
	var note flows.Text
	for len(stack) > 0 {
		build, err := call(p, stack[len(stack)-1])
		if err != nil {
			p.sayErr(err)
			again, err := p.confirm(p.T("hub.try_again"), true)
			if err != nil {
				return err
			}
			if !again {
				stack = stack[:len(stack)-1]
			}
			continue
		}
		out, err := p.runStep(build(), note, len(stack) > 1)
		note = flows.Text{}
		switch {
		case errors.Is(err, errBack):
			stack = stack[:len(stack)-1]
			continue
		case err != nil:
			return err
		}
		note = out.note
		switch {
		case out.quit:
			return nil
		case out.next != nil && out.replace:
			stack[len(stack)-1] = out.next
		case out.next != nil:
			stack = append(stack, out.next)
		case out.back > 0:
			stack = stack[:max(len(stack)-out.back, 0)]
		}
	}
	return nil
}

// runStep asks one step's fields and runs its action, asking again after
// a refusal; an information page (no action) shows itself and goes back.
func (p *plain) runStep(st *step, note flows.Text, canBack bool) (outcome, error) {
	if st.title != "" { // a wizard step's heading is printed by its caller
		p.say("")
		p.say(st.title)
		p.say(strings.Repeat("-", min(ansi.StringWidth(st.title), p.sh.width)))
	}
	if st.header != "" {
		p.say(st.header) // what the screen's header says in its place
	}
	if !note.IsZero() {
		p.say(markOK + " " + p.sh.Text(note))
	}
	if st.refresh != nil {
		if apply, _ := call(p, func(ctx context.Context) (func(*shared), error) { return st.refresh(ctx), nil }); apply != nil {
			apply(p.sh)
		}
	}
	showBody := func() {
		if st.body != nil {
			if body := st.body(p.sh.width); body != "" {
				p.show(body)
			}
		}
	}
	if st.tasks != nil {
		p.runTasks(st)
	}
	showBody()
	// A step not ready after its work (a check failed) asks whether to
	// do it again.
	for st.tasks != nil && st.ready != nil && !st.ready() {
		again, err := p.confirm(st.again, true)
		if err != nil {
			return outcome{}, err
		}
		if !again {
			return outcome{}, errQuit
		}
		p.runTasks(st)
		showBody()
	}
	if st.watch != nil {
		if err := p.follow(st.watch); err != nil {
			return outcome{}, err
		}
	}
	if st.run == nil {
		return outcome{}, errBack
	}
	vals := values{}
	shown := map[string]bool{} // hidden fields an error revealed
	for _, f := range st.fields {
		if !f.hidden {
			vals[f.key] = f.value
			shown[f.key] = true
		}
	}
	start := cloneValues(vals)
	if st.foot != nil && !st.footKeys {
		p.show(st.foot())
	}
	ask := shown // the fields to ask this time: all shown, or those an error named
	for _, a := range st.actions {
		if !a.first {
			continue
		}
		if out, leave, err := p.offer(st, a, vals, showBody); err != nil || leave {
			return out, err
		}
	}
asking:
	for {
		// Nothing to type now (a code that no longer works): the step's
		// first button is the way on, asked as a question; no goes back.
		if len(st.fields) > 0 && len(st.actions) > 0 && !anyCounts(st, vals) {
			a := st.actions[0].now()
			yes, err := p.confirm(p.question(a.label), true)
			if err != nil {
				return outcome{}, err
			}
			if !yes {
				return outcome{}, errBack
			}
			out, leave, err := p.press(st, a, vals, showBody)
			if err != nil || leave {
				return out, err
			}
			continue
		}
		for _, f := range st.fields {
			if f.hint != nil && ask[f.key] {
				if f.hintLead != "" {
					p.say(f.hintLead)
				}
				p.show(f.hint(vals))
			}
		}
		for _, f := range st.fields {
			if !ask[f.key] || !f.counts(vals) || !f.part(vals) {
				continue
			}
			if f.note != nil {
				p.show(f.note(vals))
			}
			for {
				v, err := p.askField(f, vals[f.key], f.fromNote(vals, start), canBack)
				if err != nil {
					return outcome{}, err
				}
				if i, ok := f.shortcuts[strings.ToLower(v)]; ok && i <= len(st.actions) {
					// An answer that presses a button ("r": a new code).
					out, leave, err := p.press(st, st.actions[i-1], vals, showBody)
					if err != nil || leave {
						return out, err
					}
					if !f.counts(vals) {
						continue asking
					}
					continue
				}
				vals[f.key] = v
				if f.live != nil {
					f.live(p.sh, v)
				}
				// An answer is checked as soon as it is given, for what
				// concerns it (as the screen's line under a field does
				// while typing): asked again at once when wrong.
				if st.check == nil {
					break
				}
				cerr := st.check(vals)
				if ue := flows.Explain(cerr); ue == nil || !f.names(ue) {
					break
				}
				p.sayErr(cerr)
				if f.kind == fieldSecret {
					vals[f.key] = "" // typed again, never shown back
				}
			}
		}
		for i, a := range st.actions {
			if a.after || a.first || shortcut(st, i+1) {
				continue // offered after a refusal or before the fields, or answered for at a question
			}
			if out, leave, err := p.offer(st, a, vals, showBody); err != nil || leave {
				return out, err
			}
		}
		for _, f := range st.fields {
			if !f.part(vals) {
				delete(vals, f.key) // not part of the step as answered (see field.only)
			}
		}
		var out outcome
		err := error(nil)
		if st.check != nil {
			err = st.check(vals)
		}
		if err == nil && st.ask != nil {
			if q := st.ask(vals); q != nil {
				p.say(q.say)
				yes, err := p.confirm(q.title, true)
				if err != nil {
					return outcome{}, err
				}
				if !yes {
					q.change(vals)
				}
			}
		}
		if err == nil {
			if st.busy != "" && !st.instant && st.tasks == nil {
				p.say(st.busy)
			}
			out, err = p.act(st, st.run, vals)
		}
		if err == nil {
			if out.apply != nil {
				out.apply(p.sh)
			}
			return out, nil
		}
		if st.failed != nil {
			st.failed(p.sh, cloneValues(vals), err)
		}
		if canBack { // a hub page: going back is a choice
			p.sayErr(err)
			again, err := p.confirm(p.T("hub.try_again"), true)
			if err != nil {
				return outcome{}, err
			}
			if !again {
				return outcome{}, errBack
			}
		} else if !offline(err) || st.later == nil {
			// A wizard step asks again at once (act said an offline one
			// already), saying what is wrong, or, when the step's lines say
			// it (a code that no longer works), those.
			if pe := err; st.problem == nil {
				p.sayErr(pe)
			} else if pe = st.problem(err); pe != nil {
				p.sayErr(pe)
			} else {
				showBody()
			}
		}
		// What the error names is asked again: only it, when that is a
		// code to type (the two-step code); everything, after a choice
		// to try again or take another way ("Forgot password?").
		ue, named, secret := flows.Explain(err), map[string]bool{}, false
		for _, f := range st.fields {
			if f.names(ue) {
				named[f.key], shown[f.key] = true, true
				secret = secret || f.kind == fieldSecret
				if f.retype {
					vals[f.key] = ""
				}
			}
		}
		if len(named) > 0 && !secret {
			ask = named // the rest stands as typed
			continue
		}
		if len(named) > 0 && st.keepSecrets {
			// A password named: it and the other secrets are typed again
			// (never shown back), what was typed in the open stands.
			for _, f := range st.fields {
				if f.kind == fieldSecret {
					named[f.key], vals[f.key] = true, ""
				}
			}
			ask = named
			continue
		}
		for _, f := range st.fields {
			if f.kind == fieldSecret {
				vals[f.key] = "" // typed again, never shown back
			}
		}
		ask = shown
		if out, ok, err := p.afterRefusal(st, vals); err != nil || ok {
			return out, err
		}
	}
}

// anyCounts reports whether any field of st is there to answer with the
// values vals.
func anyCounts(st *step, vals values) bool {
	for _, f := range st.fields {
		if !f.hidden && f.part(vals) && f.counts(vals) {
			return true
		}
	}
	return false
}

// shortcut reports whether an answer of a field of st presses the action
// numbered i (from 1).
func shortcut(st *step, i int) bool {
	for _, f := range st.fields {
		for _, n := range f.shortcuts {
			if n == i {
				return true
			}
		}
	}
	return false
}

// press presses the button a of st in plain mode and says what came of
// it; leave is true when its outcome leaves the step (out says where).
// Troubleshooting asked for here is said here.
func (p *plain) press(st *step, a action, vals values, showBody func()) (out outcome, leave bool, err error) {
	a = a.now()
	if a.wait {
		p.say(a.label) // not yet: the label says when
		return outcome{}, false, nil
	}
	if a.busy != "" {
		p.say(a.busy)
	}
	out, err = call(p, func(ctx context.Context) (outcome, error) { return a.run(ctx, cloneValues(vals)) })
	if err != nil {
		if st.failed != nil {
			st.failed(p.sh, cloneValues(vals), err)
		}
		p.sayErr(err)
		return outcome{}, false, nil
	}
	if out.apply != nil {
		out.apply(p.sh)
	}
	switch {
	case out.to == flows.StepTroubleshoot:
		p.helpHere()
		return outcome{}, false, nil
	case out.to != flows.StepWelcome || out.msg != nil || out.quit || out.next != nil:
		out.apply = nil // applied
		return out, true, nil
	}
	if !out.note.IsZero() {
		p.say(markOK + " " + p.sh.Text(out.note))
	}
	if out.redo {
		showBody()
	}
	return outcome{}, false, nil
}

// afterRefusal offers the step's after-actions once its action was
// refused: "Try again" or one of them ("Forgot password?"). ok is false
// to try again.
func (p *plain) afterRefusal(st *step, vals values) (out outcome, ok bool, err error) {
	var after []action
	for _, a := range st.actions {
		if a.after {
			after = append(after, a)
		}
	}
	if len(after) == 0 {
		return outcome{}, false, nil
	}
	opts := []string{p.T("acc.try_again")}
	for _, a := range after {
		opts = append(opts, a.label)
	}
	i, err := p.choose(p.T("acc.next"), opts, 0)
	if err != nil || i == 0 {
		return outcome{}, false, err
	}
	out, err = call(p, func(ctx context.Context) (outcome, error) { return after[i-1].run(ctx, cloneValues(vals)) })
	if err != nil {
		p.sayErr(err)
		return outcome{}, false, nil
	}
	if out.apply != nil {
		out.apply(p.sh)
	}
	return out, true, nil
}

// runTasks does a step's work, all at once, and records what came of it.
func (p *plain) runTasks(st *step) {
	if st.busy != "" {
		p.say(st.busy)
	}
	fns := st.tasks()
	applies := make([]func(*shared), len(fns))
	var wg sync.WaitGroup
	for i, f := range fns {
		wg.Go(func() { applies[i] = f(p.sh.ctx) })
	}
	wg.Wait()
	for _, apply := range applies {
		if apply != nil {
			apply(p.sh)
		}
	}
}

// act runs an action of st with the values asked; when the service
// cannot be reached, st may keep the choice for later and go on, if the
// person would rather not wait.
func (p *plain) act(st *step, run func(context.Context, values) (outcome, error), vals values) (outcome, error) {
	out, err := call(p, func(ctx context.Context) (outcome, error) { return run(ctx, cloneValues(vals)) })
	if err == nil || st.later == nil || !offline(err) {
		return out, err
	}
	p.sayErr(err)
	keep, cerr := p.confirm(p.T("retry.later_q"), true)
	if cerr != nil {
		return outcome{}, cerr
	}
	if !keep {
		return outcome{}, err
	}
	return st.later(vals)
}

// offer asks whether to press a button of the step ("Test it now?") and
// presses it on yes, saying what came of it.
func (p *plain) offer(st *step, a action, vals values, showBody func()) (outcome, bool, error) {
	yes, err := p.confirm(p.question(a.now().label), false)
	if err != nil || !yes {
		return outcome{}, false, err
	}
	return p.press(st, a, vals, showBody)
}

// question is label asked as a yes-or-no question, with the question mark
// of its language ("Not now?", "暂不恢复？"), unless it has one.
func (p *plain) question(label string) string {
	if strings.HasSuffix(label, "?") || strings.HasSuffix(label, "？") {
		return label
	}
	return p.T("plain.question", "q", label)
}

// askField asks one field; a menu offers "Back" last when there is a page
// to go back to.
func (p *plain) askField(f field, value, from string, canBack bool) (string, error) {
	if f.kind == fieldToggle {
		f.label = p.question(f.label) // a switch is asked as a question: "Find Device?" [y/N]
	}
	if from != "" {
		f.label += " " + from // said with the question: a screen reader reads them together
	}
	if f.rule && f.placeholder != "" {
		f.label = p.T("plain.with_rule", "q", f.label, "rule", f.placeholder)
	}
	switch f.kind {
	case fieldChecks:
		chosen := values{f.key: value}.checked(f.key)
		opts := make([]huh.Option[string], len(f.options))
		for i, o := range f.options {
			opts[i] = huh.NewOption(o, f.choices[i]).Selected(slices.Contains(chosen, f.choices[i]))
		}
		if err := p.form(huh.NewMultiSelect[string]().Title(f.label).Options(opts...).Value(&chosen), false); err != nil {
			return "", err
		}
		return checksValue(f.choices, chosen), nil
	case fieldToggle:
		on, err := p.confirm(f.label, value == "1")
		return onValue(on), err
	case fieldCode:
		if f.prompt != "" {
			f.label = f.prompt
		}
		v, err := p.ask(f.label, "", false)
		return strings.TrimSpace(v), err
	case fieldChoice, fieldSpin:
		i, err := p.choose(f.label, f.options, max(values{f.key: value}.index(f.key), 0))
		return strconv.Itoa(i), err
	case fieldMenu:
		opts := f.options
		if f.details != nil {
			opts = make([]string, len(f.options))
			for i, o := range f.options {
				opts[i] = o + " (" + f.details[i] + ")"
			}
		}
		if canBack {
			opts = append(append([]string{}, opts...), p.T("hub.back"))
		}
		title := f.label
		if title == "" {
			title = p.T("hub.choose")
		}
		i, err := p.choose(title, opts, max(values{f.key: value}.index(f.key), 0))
		if err != nil {
			return "", err
		}
		if i >= len(f.options) {
			return "", errBack
		}
		return strconv.Itoa(i), nil
	}
	v, err := p.ask(f.label, value, f.kind == fieldSecret)
	return fieldValue(f, v), err
}

// follow prints a watch's status each time it changes, until it is done.
func (p *plain) follow(watch func(ctx context.Context) (func() string, bool, error)) error {
	last := ""
	for {
		w, err := call(p, func(ctx context.Context) (watchResult, error) {
			s, d, err := watch(ctx)
			return watchResult{s, d}, err
		})
		if err != nil {
			p.sayErr(err)
		} else if s := w.status(); s != last {
			p.say(s)
			last = s
		}
		if err == nil && w.done {
			return nil
		}
		select {
		case <-p.sh.ctx.Done():
			return p.sh.ctx.Err()
		case <-time.After(time.Second):
		}
	}
}

type watchResult struct {
	status func() string
	done   bool
}
