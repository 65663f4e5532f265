package ui

import (
	"context"
	"fmt"
	"slices"
	"sync"
	"time"

	"misetup/api"
	"misetup/flows"
)

// t0 is the pinned clock of every ui test.
var t0 = time.Date(2026, 3, 1, 9, 30, 0, 0, time.UTC)

// fakeService is a hand-written fake of the account service behind the
// flows interfaces: canned answers, a record of calls (tests check them),
// and a failure to inject per call.
type fakeService struct {
	callLog
	mu sync.Mutex

	token string

	code        string                      // the right code
	fail        map[string]error            // by method name: the error to answer
	account     api.Account                 // the account
	sync        map[string]api.SyncSettings // saved sync by device
	read        *api.Challenge              // what Challenge answers, when set
	findDevice  map[string]bool
	registered  []api.RegistrationRequest
	signIns     []api.SessionRequest
	verifyDevs  []*api.Device
	statusDelay time.Duration
	wrong       int // wrong codes so far: the 5th kills the challenge
}

func newFakeService() *fakeService {
	return &fakeService{
		code: "123456", fail: map[string]error{},
		account:    api.Account{MiID: "1234567890", Email: "ann@example.com"},
		sync:       map[string]api.SyncSettings{},
		findDevice: map[string]bool{},
	}
}

// callLog is the record of calls of a fake; Cmds call fakes on other
// goroutines.
type callLog struct {
	logMu sync.Mutex
	calls []string
}

func (l *callLog) rec(name string) {
	l.logMu.Lock()
	l.calls = append(l.calls, name)
	l.logMu.Unlock()
}

// count is how many times method name was called.
func (l *callLog) count(name string) int {
	l.logMu.Lock()
	defer l.logMu.Unlock()
	n := 0
	for _, c := range l.calls {
		if c == name {
			n++
		}
	}
	return n
}

// record logs a call and returns the error injected for it.
func (f *fakeService) record(name string) error {
	f.rec(name)
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.fail[name]
}

func (f *fakeService) challenge(purpose string) api.Challenge {
	return api.Challenge{
		ID: "ch-1", Purpose: purpose, Channel: api.ChannelEmail, Destination: "a***@example.com",
		State: api.ChallengePending, AttemptsLeft: 5, CreatedAt: t0,
		ExpiresAt: t0.Add(10 * time.Minute), ResendAfter: t0.Add(60 * time.Second),
		Delivery: api.Delivery{State: api.DeliverySent},
	}
}

// Status implements flows.StatusSource.
func (f *fakeService) Status(ctx context.Context) (api.Status, error) {
	if err := f.record("Status"); err != nil {
		return api.Status{}, err
	}
	return api.Status{ServerTime: t0, Version: api.Version, MinClientVersion: "1.0.0", LatestClientVersion: api.Version}, nil
}

// Register implements flows.Registrar.
func (f *fakeService) Register(ctx context.Context, req api.RegistrationRequest) (api.Challenge, error) {
	if err := f.record("Register"); err != nil {
		return api.Challenge{}, err
	}
	f.mu.Lock()
	f.registered = append(f.registered, req)
	f.mu.Unlock()
	return f.challenge(api.PurposeRegistration), nil
}

// Challenge implements flows.Challenges.
func (f *fakeService) Challenge(ctx context.Context, id string) (api.Challenge, error) {
	if err := f.record("Challenge"); err != nil {
		return api.Challenge{}, err
	}
	if f.read != nil {
		return *f.read, nil
	}
	return f.challenge(api.PurposeRegistration), nil
}

// Resend implements flows.Challenges.
func (f *fakeService) Resend(ctx context.Context, id string) (api.Challenge, error) {
	if err := f.record("Resend"); err != nil {
		return api.Challenge{}, err
	}
	ch := f.challenge(api.PurposeRegistration)
	ch.ResendAfter = t0.Add(120 * time.Second)
	return ch, nil
}

// Verify implements flows.Challenges.
func (f *fakeService) Verify(ctx context.Context, id string, req api.VerifyRequest) (api.VerifyResponse, error) {
	if err := f.record("Verify"); err != nil {
		return api.VerifyResponse{}, err
	}
	if req.Code != f.code {
		f.mu.Lock()
		f.wrong++
		left := 5 - f.wrong
		f.mu.Unlock()
		if left <= 0 {
			return api.VerifyResponse{}, &api.Error{Status: 400, Code: api.CodeTooManyAttempts, AttemptsLeft: new(0)}
		}
		return api.VerifyResponse{}, &api.Error{Status: 400, Code: api.CodeInvalidCode, AttemptsLeft: &left}
	}
	f.mu.Lock()
	f.verifyDevs = append(f.verifyDevs, req.Device)
	f.mu.Unlock()
	res := api.VerifyResponse{Account: f.account}
	if req.NewPassword == "" && req.Device != nil {
		res.Session = &api.Session{Token: "tok-1", Account: f.account, Device: *req.Device}
		f.SetToken("tok-1")
	}
	return res, nil
}

// SignIn implements flows.Authenticator.
func (f *fakeService) SignIn(ctx context.Context, req api.SessionRequest) (api.Session, error) {
	if err := f.record("SignIn"); err != nil {
		return api.Session{}, err
	}
	f.mu.Lock()
	f.signIns = append(f.signIns, req)
	f.mu.Unlock()
	f.SetToken("tok-2")
	return api.Session{Token: "tok-2", Account: f.account, Device: req.Device}, nil
}

// RequestPasswordReset implements flows.Authenticator.
func (f *fakeService) RequestPasswordReset(ctx context.Context, req api.PasswordResetRequest) (api.Challenge, error) {
	if err := f.record("RequestPasswordReset"); err != nil {
		return api.Challenge{}, err
	}
	return f.challenge(api.PurposePasswordReset), nil
}

// Token implements flows.SessionKeeper.
func (f *fakeService) Token() string {
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.token
}

// SetToken implements flows.SessionKeeper.
func (f *fakeService) SetToken(t string) {
	f.mu.Lock()
	f.token = t
	f.mu.Unlock()
}

// Account implements flows.SessionKeeper.
func (f *fakeService) Account(ctx context.Context) (api.Account, error) {
	if err := f.record("Account"); err != nil {
		return api.Account{}, err
	}
	if f.Token() == "" {
		return api.Account{}, &api.Error{Status: 401, Code: api.CodeUnauthorized}
	}
	return f.account, nil
}

// Sync implements flows.Cloud.
func (f *fakeService) Sync(ctx context.Context, id string) (api.SyncSettings, error) {
	if err := f.record("Sync"); err != nil {
		return api.SyncSettings{}, err
	}
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.sync[id], nil
}

// SetSync implements flows.Cloud.
func (f *fakeService) SetSync(ctx context.Context, id string, s api.SyncSettings) (api.SyncSettings, error) {
	if err := f.record("SetSync"); err != nil {
		return api.SyncSettings{}, err
	}
	at := t0
	s.UpdatedAt = &at
	s.Categories = slices.Clone(s.Categories)
	f.mu.Lock()
	f.sync[id] = s
	f.mu.Unlock()
	return s, nil
}

// Storage implements flows.Cloud.
func (f *fakeService) Storage(ctx context.Context) (api.Storage, error) {
	if err := f.record("Storage"); err != nil {
		return api.Storage{}, err
	}
	return api.Storage{QuotaBytes: 5 << 30, UsedBytes: 1288490188}, nil
}

// FindDevice implements flows.Cloud.
func (f *fakeService) FindDevice(ctx context.Context, id string) (api.FindDevice, error) {
	if err := f.record("FindDevice"); err != nil {
		return api.FindDevice{}, err
	}
	f.mu.Lock()
	defer f.mu.Unlock()
	return api.FindDevice{Enabled: f.findDevice[id]}, nil
}

// SetFindDevice implements flows.Cloud.
func (f *fakeService) SetFindDevice(ctx context.Context, id string, on bool) (api.FindDevice, error) {
	if err := f.record("SetFindDevice"); err != nil {
		return api.FindDevice{}, err
	}
	f.mu.Lock()
	f.findDevice[id] = on
	f.mu.Unlock()
	return api.FindDevice{Enabled: on}, nil
}

// RenameDevice implements flows.Cloud.
func (f *fakeService) RenameDevice(ctx context.Context, id, name string) (api.Device, error) {
	if err := f.record("RenameDevice"); err != nil {
		return api.Device{}, err
	}
	return api.Device{ID: id, Name: name}, nil
}

// memFiles keeps progress and the token in memory.
type memFiles struct {
	mu       sync.Mutex
	progress *flows.Progress
	token    string
	saves    []flows.Progress
}

// LoadProgress implements flows.ProgressStore.
func (m *memFiles) LoadProgress() (flows.Progress, bool, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	if m.progress == nil {
		return flows.Progress{}, false, nil
	}
	return *m.progress, true, nil
}

// SaveProgress implements flows.ProgressStore.
func (m *memFiles) SaveProgress(p flows.Progress) error {
	m.mu.Lock()
	defer m.mu.Unlock()
	m.progress = &p
	m.saves = append(m.saves, p)
	return nil
}

// ClearProgress implements flows.ProgressStore.
func (m *memFiles) ClearProgress() error {
	m.mu.Lock()
	defer m.mu.Unlock()
	m.progress = nil
	return nil
}

// LoadToken implements flows.SessionStore.
func (m *memFiles) LoadToken() (string, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	return m.token, nil
}

// SaveToken implements flows.SessionStore.
func (m *memFiles) SaveToken(t string) error {
	m.mu.Lock()
	defer m.mu.Unlock()
	m.token = t
	return nil
}

// ClearToken implements flows.SessionStore.
func (m *memFiles) ClearToken() error {
	m.mu.Lock()
	defer m.mu.Unlock()
	m.token = ""
	return nil
}

func (m *memFiles) String() string { return fmt.Sprintf("progress=%+v token=%q", m.progress, m.token) }
