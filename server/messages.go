package server

import (
	"math"
	"strconv"
	"strings"

	"misetup/api"
	"misetup/server/courier"
)

// messageKind is which text goes with a code.
type messageKind int

const (
	msgRegistration      messageKind = iota // a code to create an account
	msgRegistrationTaken                    // a code, and: this address already has an account
	msgReset                                // a code to reset the password
	msgResetNoAccount                       // no code: someone asked for a reset, but there is no account
	msgRecovery                             // a code to confirm a recovery contact
)

// template is the text of one message in one language; {code}, {minutes},
// {what} (email address or phone number) and {mi_id} are filled in.
type template struct{ subject, email, sms string }

// templates holds the texts by language, then kind. English is the fallback.
var templates = map[string]map[messageKind]template{
	"en": {
		msgRegistration: {
			subject: "Your Mi Account verification code",
			email: "Your Mi Account verification code is {code}.\n\n" +
				"It is valid for {minutes} minutes. Enter it in misetup to finish creating your Mi Account.\n\n" +
				"If you did not ask for it, ignore this message: no account is created without the code.",
			sms: "Mi Account: your verification code is {code}, valid for {minutes} minutes. Do not share it.",
		},
		msgRegistrationTaken: {
			subject: "Mi Account: this {what} already has an account",
			email: "Someone, probably you, tried to create a Mi Account with this {what}, but a Mi Account already uses it.\n\n" +
				"Your verification code is {code} (valid for {minutes} minutes). If it was you, you do not need a new account: " +
				"sign in with this {what}, or choose \"Forgot password\" to reset the password.\n\n" +
				"If it was not you, ignore this message.",
			sms: "Mi Account: code {code} (valid for {minutes} minutes). This number already has a Mi Account: sign in, or use Forgot password.",
		},
		msgReset: {
			subject: "Reset your Mi Account password",
			email: "Your code to reset the password of your Mi Account is {code}. It is valid for {minutes} minutes.\n\n" +
				"If you did not ask to reset your password, ignore this message; your password stays as it is.",
			sms: "Mi Account: your password reset code is {code}, valid for {minutes} minutes. Do not share it.",
		},
		msgResetNoAccount: {
			subject: "Mi Account password reset",
			email: "Someone asked to reset the password of a Mi Account for this {what}, but no Mi Account uses it.\n\n" +
				"If it was you, you may have signed up with another email address or phone number. " +
				"If it was not you, ignore this message.",
			sms: "Mi Account: someone asked to reset a password for this number, but no Mi Account uses it. If it was not you, ignore this message.",
		},
		msgRecovery: {
			subject: "Confirm your Mi Account recovery {what}",
			email: "Your code to add this {what} as the recovery contact of Mi Account {mi_id} is {code}. It is valid for {minutes} minutes.\n\n" +
				"If you did not ask for this, ignore this message.",
			sms: "Mi Account: code {code} confirms this number as the recovery phone of Mi Account {mi_id}. Valid for {minutes} minutes.",
		},
	},
	"zh-CN": {
		msgRegistration: {
			subject: "您的小米账号验证码",
			email:   "您的小米账号验证码是 {code}，{minutes} 分钟内有效。请在 misetup 中输入以完成注册。\n\n如果这不是您本人的操作，请忽略此消息：没有验证码无法创建账号。",
			sms:     "【小米账号】验证码 {code}，{minutes} 分钟内有效，请勿泄露。",
		},
		msgRegistrationTaken: {
			subject: "小米账号：此{what}已注册",
			email:   "有人（可能是您）尝试用此{what}注册小米账号，但已有小米账号使用它。\n\n验证码：{code}（{minutes} 分钟内有效）。如果是您本人，无需新账号：请直接用此{what}登录，或选择“忘记密码”重设密码。\n\n如果不是您本人，请忽略此消息。",
			sms:     "【小米账号】验证码 {code}（{minutes} 分钟内有效）。此号码已注册小米账号，请直接登录或使用“忘记密码”。",
		},
		msgReset: {
			subject: "重设小米账号密码",
			email:   "您重设小米账号密码的验证码是 {code}，{minutes} 分钟内有效。\n\n如果您没有申请重设密码，请忽略此消息，密码不会改变。",
			sms:     "【小米账号】重设密码验证码 {code}，{minutes} 分钟内有效，请勿泄露。",
		},
		msgResetNoAccount: {
			subject: "小米账号密码重设",
			email:   "有人为此{what}申请重设小米账号密码，但没有小米账号使用它。\n\n如果是您本人，您可能用了其他邮箱或手机号注册。如果不是您本人，请忽略此消息。",
			sms:     "【小米账号】有人为此号码申请重设密码，但此号码未注册小米账号。如非本人操作，请忽略。",
		},
		msgRecovery: {
			subject: "确认小米账号的安全{what}",
			email:   "将此{what}设为小米账号 {mi_id} 安全联系方式的验证码是 {code}，{minutes} 分钟内有效。\n\n如果不是您本人操作，请忽略此消息。",
			sms:     "【小米账号】验证码 {code}，用于将此号码设为小米账号 {mi_id} 的安全手机，{minutes} 分钟内有效。",
		},
	},
}

// messageLanguage picks the catalog for a BCP 47 tag: Chinese for any zh
// tag, English otherwise.
func messageLanguage(tag string) string {
	tag = strings.ToLower(strings.TrimSpace(tag))
	if tag == "zh" || strings.HasPrefix(tag, "zh-") || strings.HasPrefix(tag, "zh_") {
		return "zh-CN"
	}
	return "en"
}

// composeMessage writes the message of kind for a challenge.
func (s *Server) composeMessage(kind messageKind, lang, channel, to, code, miID string) courier.Message {
	lang = messageLanguage(lang)
	t := templates[lang][kind]
	what := map[string]map[string]string{
		"en":    {api.ChannelEmail: "email address", api.ChannelSMS: "phone number"},
		"zh-CN": {api.ChannelEmail: "邮箱", api.ChannelSMS: "手机号"},
	}[lang][channel]
	fill := strings.NewReplacer(
		"{code}", code,
		"{minutes}", strconv.Itoa(int(math.Ceil(s.cfg.CodeTTL.Minutes()))),
		"{what}", what,
		"{mi_id}", miID,
	)
	m := courier.Message{Time: s.now(), Channel: channel, To: to}
	if channel == api.ChannelSMS {
		m.Body = fill.Replace(t.sms)
		return m
	}
	m.Subject = fill.Replace(t.subject)
	m.Body = fill.Replace(t.email)
	return m
}
