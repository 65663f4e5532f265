package web

import (
	"crypto/aes"
	"crypto/cipher"
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"
	"encoding/json"
	"errors"
	"time"
)

// pendingTTL is how long a sign-in waits for its two-step code.
const pendingTTL = 5 * time.Minute

// pending is a sign-in whose password was given, waiting for the two-step
// code. It lives only in a sealed cookie (AES-256-GCM with the portal's
// key), so every process behind one address can finish it and none keeps
// a password in memory or on disk.
type pending struct {
	Identifier string    `json:"i"`
	Password   string    `json:"p"`
	Expires    time.Time `json:"e"`
}

// aead is the portal key's cipher, the key being derived for this use only.
func (p *Portal) aead() (cipher.AEAD, error) {
	k := sha256.Sum256(append([]byte("misetup portal pending sign-in\x00"), p.opts.Key...))
	b, err := aes.NewCipher(k[:])
	if err != nil {
		return nil, err
	}
	return cipher.NewGCM(b)
}

// sealPending keeps pd in the pending cookie for pendingTTL.
func (p *Portal) sealPending(rq *req, pd pending) {
	pd.Expires = p.opts.Now().Add(pendingTTL)
	g, err := p.aead()
	if err != nil {
		p.log.Error("portal: seal", "err", err)
		return
	}
	plain, _ := json.Marshal(pd)
	nonce := make([]byte, g.NonceSize())
	_, _ = rand.Read(nonce)
	sealed := g.Seal(nonce, nonce, plain, []byte(cookiePending))
	p.setCookie(rq.w, rq.r, cookiePending, base64.RawURLEncoding.EncodeToString(sealed), pendingTTL, false)
}

// openPending reads the pending sign-in; false when there is none, it was
// tampered with or it expired.
func (p *Portal) openPending(rq *req) (pending, bool) {
	ck, err := rq.r.Cookie(cookiePending)
	if err != nil {
		return pending{}, false
	}
	pd, err := p.unseal(ck.Value)
	if err != nil || p.opts.Now().After(pd.Expires) {
		return pending{}, false
	}
	return pd, true
}

func (p *Portal) unseal(v string) (pending, error) {
	raw, err := base64.RawURLEncoding.DecodeString(v)
	if err != nil {
		return pending{}, err
	}
	g, err := p.aead()
	if err != nil {
		return pending{}, err
	}
	if len(raw) < g.NonceSize() {
		return pending{}, errors.New("short")
	}
	plain, err := g.Open(nil, raw[:g.NonceSize()], raw[g.NonceSize():], []byte(cookiePending))
	if err != nil {
		return pending{}, err
	}
	var pd pending
	return pd, json.Unmarshal(plain, &pd)
}

// dropPending forgets the pending sign-in.
func (p *Portal) dropPending(rq *req) {
	if _, err := rq.r.Cookie(cookiePending); err == nil {
		p.setCookie(rq.w, rq.r, cookiePending, "", -1, false)
	}
}
