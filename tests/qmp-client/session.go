// tests/qmp-client/session.go: one scripted QMP session against one remote,
// run with a third-party QMP client, DigitalOcean's go-qemu library
// (github.com/digitalocean/go-qemu/qmp, Debian's
// golang-github-digitalocean-go-qemu-dev).
//
//	session SOCKET TRANSCRIPT
//
// connects to the QMP unix socket SOCKET, runs the script below and writes
// what the remote answered to TRANSCRIPT as one JSON document:
//
//	{"greeting": {"version": ..., "capabilities": [...]},
//	 "steps": [{"name": ..., "command": {...}, "ok": true|false,
//	            "return": <the "return" member>, "error": "<desc>",
//	            "class": "<error class>", "events": [<events>]}, ...]}
//
// It judges nothing: tests/qmp-client/run checks each transcript and
// compares the two (outboard's and QEMU's x-remote's).
//
// The library reports a failed command as a Go error made of the error's
// "desc" only; the error class is dropped. The steps that check an error
// class ("raw": true below) therefore run first on a plain connection of our
// own (stdlib net + encoding/json), which is closed before the library
// connects (QEMU serves one client per monitor at a time).
package main

import (
	"bufio"
	"context"
	"encoding/json"
	"fmt"
	"net"
	"os"
	"sync"
	"time"

	"github.com/digitalocean/go-qemu/qmp"
)

type step struct {
	name    string
	command string // the request, as sent
	event   string // an event the command must cause ("" = none)
	raw     bool   // run on the plain connection (error class visible)
}

var script = []step{
	{name: "unknown command (raw)", command: `{"execute": "no-such-command"}`, raw: true},
	{name: "unexpected argument (raw)", command: `{"execute": "query-status", "arguments": {"bogus": 1}}`, raw: true},
	{name: "wrongly typed argument (raw)", command: `{"execute": "human-monitor-command", "arguments": {"command-line": 42}}`, raw: true},
	{name: "query-version", command: `{"execute": "query-version"}`},
	{name: "query-status", command: `{"execute": "query-status"}`},
	{name: "query-name", command: `{"execute": "query-name"}`},
	{name: "query-commands", command: `{"execute": "query-commands"}`},
	{name: "stop", command: `{"execute": "stop"}`, event: "STOP"},
	{name: "query-status (paused)", command: `{"execute": "query-status"}`},
	{name: "cont", command: `{"execute": "cont"}`, event: "RESUME"},
	{name: "query-status (running)", command: `{"execute": "query-status"}`},
	{name: "query-block", command: `{"execute": "query-block"}`},
	{name: "query-pci", command: `{"execute": "query-pci"}`},
	{name: "human-monitor-command info status", command: `{"execute": "human-monitor-command", "arguments": {"command-line": "info status"}}`},
	{name: "system_reset", command: `{"execute": "system_reset"}`, event: "RESET"},
	{name: "unknown command", command: `{"execute": "no-such-command"}`},
	{name: "unexpected argument", command: `{"execute": "query-status", "arguments": {"bogus": 1}}`},
	{name: "quit", command: `{"execute": "quit"}`, event: "SHUTDOWN"},
}

type result struct {
	Name    string            `json:"name"`
	Command json.RawMessage   `json:"command"`
	OK      bool              `json:"ok"`
	Return  json.RawMessage   `json:"return,omitempty"`
	Error   string            `json:"error,omitempty"`
	Class   string            `json:"class,omitempty"`
	Events  []json.RawMessage `json:"events"`
}

type transcript struct {
	Greeting struct {
		Version      *qmp.Version `json:"version"`
		Capabilities []string     `json:"capabilities"`
	} `json:"greeting"`
	Steps []result `json:"steps"`
}

const eventWait = 3 * time.Second

// rawSteps runs the "raw" steps on a connection of our own: greeting,
// qmp_capabilities, then each command, reading one response per request.
func rawSteps(path string, out *transcript) error {
	c, err := net.DialTimeout("unix", path, 5*time.Second)
	if err != nil {
		return err
	}
	defer c.Close()
	c.SetDeadline(time.Now().Add(10 * time.Second))
	sc := bufio.NewScanner(c)
	sc.Buffer(make([]byte, 1<<20), 1<<24)
	// next returns the next line that is not an event.
	next := func() (map[string]json.RawMessage, error) {
		for sc.Scan() {
			var m map[string]json.RawMessage
			if err := json.Unmarshal(sc.Bytes(), &m); err != nil {
				return nil, fmt.Errorf("bad JSON from the remote: %v: %q", err, sc.Text())
			}
			if _, ev := m["event"]; !ev {
				return m, nil
			}
		}
		if sc.Err() != nil {
			return nil, sc.Err()
		}
		return nil, fmt.Errorf("connection closed")
	}
	if _, err := next(); err != nil { // greeting
		return err
	}
	if _, err := c.Write([]byte(`{"execute": "qmp_capabilities"}`)); err != nil {
		return err
	}
	if _, err := next(); err != nil {
		return err
	}
	for _, s := range script {
		if !s.raw {
			continue
		}
		if _, err := c.Write([]byte(s.command)); err != nil {
			return err
		}
		m, err := next()
		if err != nil {
			return err
		}
		r := result{Name: s.name, Command: json.RawMessage(s.command), Events: []json.RawMessage{}}
		if ret, ok := m["return"]; ok {
			r.OK, r.Return = true, ret
		}
		if e, ok := m["error"]; ok {
			var eo struct {
				Class string `json:"class"`
				Desc  string `json:"desc"`
			}
			json.Unmarshal(e, &eo)
			r.Error, r.Class = eo.Desc, eo.Class
		}
		out.Steps = append(out.Steps, r)
	}
	return nil
}

// eventLog collects the events the library delivers. The library's event
// channel is unbuffered and its reader blocks on it, so it is drained
// all the time.
type eventLog struct {
	mu     sync.Mutex
	cond   *sync.Cond
	events []qmp.Event
	closed bool
}

func (l *eventLog) drain(ch <-chan qmp.Event) {
	for e := range ch {
		l.mu.Lock()
		l.events = append(l.events, e)
		l.cond.Broadcast()
		l.mu.Unlock()
	}
	l.mu.Lock()
	l.closed = true
	l.cond.Broadcast()
	l.mu.Unlock()
}

// since waits (up to eventWait) until an event named want arrived at index
// from or later (want "" = don't wait), and returns the events from there.
func (l *eventLog) since(from int, want string) ([]qmp.Event, int) {
	deadline := time.Now().Add(eventWait)
	timer := time.AfterFunc(eventWait, func() {
		l.mu.Lock()
		l.cond.Broadcast()
		l.mu.Unlock()
	})
	defer timer.Stop()
	l.mu.Lock()
	defer l.mu.Unlock()
	for want != "" && !l.closed && time.Now().Before(deadline) {
		found := false
		for _, e := range l.events[from:] {
			if e.Event == want {
				found = true
			}
		}
		if found {
			break
		}
		l.cond.Wait()
	}
	evs := append([]qmp.Event(nil), l.events[from:]...)
	return evs, len(l.events)
}

func main() {
	if len(os.Args) != 3 {
		fmt.Fprintln(os.Stderr, "usage: session SOCKET TRANSCRIPT")
		os.Exit(2)
	}
	path, outPath := os.Args[1], os.Args[2]
	time.AfterFunc(30*time.Second, func() {
		fmt.Fprintln(os.Stderr, "session: no end after 30 s")
		os.Exit(1)
	})
	var out transcript
	fail := func(what string, err error) {
		fmt.Fprintf(os.Stderr, "session: %s: %v\n", what, err)
		os.Exit(1)
	}
	if err := rawSteps(path, &out); err != nil {
		fail("plain connection", err)
	}

	// The library's session: greeting and qmp_capabilities in Connect().
	var mon *qmp.SocketMonitor
	var err error
	for i := 0; i < 50; i++ { // QEMU may not have noticed the first client leave yet
		if mon, err = qmp.NewSocketMonitor("unix", path, 5*time.Second); err == nil {
			break
		}
		time.Sleep(100 * time.Millisecond)
	}
	if err != nil {
		fail("NewSocketMonitor", err)
	}
	if err := mon.Connect(); err != nil {
		fail("Connect", err)
	}
	out.Greeting.Version = mon.Version
	out.Greeting.Capabilities = mon.Capabilities
	ch, err := mon.Events(context.Background())
	if err != nil {
		fail("Events", err)
	}
	log := &eventLog{}
	log.cond = sync.NewCond(&log.mu)
	go log.drain(ch)

	seen := 0
	for _, s := range script {
		if s.raw {
			continue
		}
		r := result{Name: s.name, Command: json.RawMessage(s.command), Events: []json.RawMessage{}}
		buf, err := mon.Run([]byte(s.command))
		if err != nil {
			r.Error = err.Error()
		} else {
			var m map[string]json.RawMessage
			if err := json.Unmarshal(buf, &m); err != nil {
				fail(s.name, err)
			}
			r.OK, r.Return = true, m["return"]
		}
		var evs []qmp.Event
		evs, seen = log.since(seen, s.event)
		for _, e := range evs {
			b, _ := json.Marshal(e)
			r.Events = append(r.Events, b)
		}
		out.Steps = append(out.Steps, r)
	}
	mon.Disconnect()

	b, err := json.MarshalIndent(&out, "", "  ")
	if err != nil {
		fail("transcript", err)
	}
	if err := os.WriteFile(outPath, append(b, '\n'), 0o644); err != nil {
		fail("transcript", err)
	}
}
