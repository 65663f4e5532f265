package flows

import (
	"context"
	"strings"

	"misetup/api"
)

// Manager is what the account hub needs after set-up (GUIDE sections 6, 7,
// 8 and 10): the account, its devices and their Find Device commands, its
// recovery contacts and storage. *client.Client satisfies it.
type Manager interface {
	SessionKeeper
	Challenges
	TwoStep
	UpdateAccount(ctx context.Context, p api.AccountPatch) (api.Account, error)
	ChangePassword(ctx context.Context, req api.PasswordChange) (api.PasswordChanged, error)
	SetRecovery(ctx context.Context, req api.RecoveryRequest) (api.Challenge, error)
	Devices(ctx context.Context) ([]api.Device, error)
	RenameDevice(ctx context.Context, id, name string) (api.Device, error)
	RemoveDevice(ctx context.Context, id string) error
	FindDevices
	SendCommand(ctx context.Context, deviceID string, req api.CommandRequest) (api.Command, error)
	Command(ctx context.Context, deviceID, commandID string) (api.Command, error)
	Storage(ctx context.Context) (api.Storage, error)
}

// Command types (GUIDE section 6).
const (
	CommandLocate = "locate"
	CommandRing   = "ring"
	CommandLock   = "lock"
	CommandErase  = "erase"
)

// Command states as the service reports them.
const (
	CommandPending   = "pending"
	CommandDelivered = "delivered"
	CommandDone      = "done"
	CommandFailed    = "failed"
)

// CommandEnded reports whether a command is past changing: done or failed.
func CommandEnded(c api.Command) bool {
	return c.State == CommandDone || c.State == CommandFailed
}

// SaveProfile sends the profile's fields; an empty display name clears it.
func SaveProfile(ctx context.Context, m Manager, displayName, region, language string) (api.Account, error) {
	name := cleanText(displayName, 64)
	a, err := m.UpdateAccount(ctx, api.AccountPatch{DisplayName: &name, Region: &region, Language: &language})
	if err != nil {
		return api.Account{}, Explain(wrap("update profile", err))
	}
	return a, nil
}

// CheckPasswordChange is what ChangePassword checks before it calls the
// service: the current password given (Field "current_password"), the new
// one meeting the rules (Field "new_password") and confirmed.
func CheckPasswordChange(current, next, confirm string) error {
	if current == "" {
		return &UserError{Key: ErrKeyPasswordEmpty, AttemptsLeft: -1, Field: "current_password"}
	}
	if err := ValidateNewPassword(next, confirm, ""); err != nil {
		if ue, ok := err.(*UserError); ok {
			ue.Field = "new_password"
		}
		return err
	}
	return nil
}

// ChangePassword checks the new password and its confirmation as the
// create form does, then changes it; it returns how many other sessions
// were signed out.
func ChangePassword(ctx context.Context, m Manager, current, next, confirm string) (int, error) {
	if err := CheckPasswordChange(current, next, confirm); err != nil {
		return 0, err
	}
	res, err := m.ChangePassword(ctx, api.PasswordChange{CurrentPassword: current, NewPassword: next})
	if err != nil {
		return 0, Explain(wrap("change password", err))
	}
	return res.OtherSessionsSignedOut, nil
}

// AddRecovery asks for a recovery email or phone (method api.MethodEmail or
// api.MethodPhone; region for a phone without its country code): a code
// goes to it, and it counts once VerifyRecovery has its code.
func AddRecovery(ctx context.Context, m Manager, method, value, region string) (api.Challenge, error) {
	id, err := ValidateIdentifier(method, value, region)
	if err != nil {
		return api.Challenge{}, err
	}
	req := api.RecoveryRequest{Email: id}
	if method == api.MethodPhone {
		req = api.RecoveryRequest{Phone: id}
	}
	ch, err := m.SetRecovery(ctx, req)
	if err != nil {
		return api.Challenge{}, Explain(wrap("set recovery contact", err))
	}
	return ch, nil
}

// VerifyRecovery sends the code the recovery contact received.
func VerifyRecovery(ctx context.Context, m Manager, challengeID, code string) error {
	_, err := Verify(ctx, m, nil, challengeID, code, nil)
	return err
}

// RemoveDevice unlinks a device; its session ends.
func RemoveDevice(ctx context.Context, m Manager, id string) error {
	if err := m.RemoveDevice(ctx, id); err != nil {
		return Explain(wrap("remove device", err))
	}
	return nil
}

// CheckCommand is what SendCommand checks before it calls the service:
// lock and erase need the password (Field "password"), erase the device's
// name typed (Field "name").
func CheckCommand(dev api.Device, kind, password, typedName string) error {
	switch kind {
	case CommandLock, CommandErase:
		if password == "" {
			return &UserError{Key: ErrKeyPasswordEmpty, AttemptsLeft: -1, Field: "password"}
		}
	}
	if kind == CommandErase && !strings.EqualFold(strings.TrimSpace(typedName), strings.TrimSpace(dev.Name)) {
		return &UserError{Key: ErrKeyEraseName, AttemptsLeft: -1, Field: "name", Args: []any{"name", dev.Name}}
	}
	return nil
}

// SendCommand queues a Find Device command for a device. Lock and erase
// need the password again; erase also needs the device's name typed
// (typedName), so that the wrong device is never erased by a slip.
func SendCommand(ctx context.Context, m Manager, dev api.Device, kind, message, password, typedName string) (api.Command, error) {
	if err := CheckCommand(dev, kind, password, typedName); err != nil {
		return api.Command{}, err
	}
	c, err := m.SendCommand(ctx, dev.ID, api.CommandRequest{Type: kind, Message: CleanText(message), Password: password})
	if err != nil {
		return api.Command{}, Explain(wrap("send "+kind, err))
	}
	return c, nil
}

// FollowCommand reads a command's state again.
func FollowCommand(ctx context.Context, m Manager, deviceID, commandID string) (api.Command, error) {
	c, err := m.Command(ctx, deviceID, commandID)
	if err != nil {
		return api.Command{}, Explain(wrap("read command", err))
	}
	return c, nil
}
