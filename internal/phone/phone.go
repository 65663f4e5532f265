// Package phone parses, validates and formats phone numbers the way
// libphonenumber does, for what misetup needs: a number typed with digits,
// spaces and - . ( ) /, an optional leading +, and a default region.
//
// NOTE: misetup used github.com/nyaruka/phonenumbers directly. That
// package decodes all of its metadata in a package init (35,000 allocations,
// 10-30 ms) in every process that links it, before main runs, and has no
// lazy option: every misetup command paid for it, the wizard before its
// first screen. Here the same metadata is Go literals generated from it
// (metadata.go, by gen/), which the linker lays out statically, and the
// regular expressions of a region are compiled when a number of that region
// is first looked at. The algorithms are libphonenumber's, as that library
// ports them; TestAgainstLibphonenumber compares the two on every region.
// Letters (vanity numbers, extensions) are not taken: misetup refuses them
// before it parses.
package phone

//go:generate go run ./gen metadata.go

import (
	"errors"
	"regexp"
	"sort"
	"strconv"
	"strings"
	"sync"
	"unicode"
)

// The errors of Parse, as libphonenumber names them.
var (
	ErrNotANumber         = errors.New("the phone number supplied is not a number")
	ErrInvalidCountryCode = errors.New("invalid country code")
	ErrTooShortAfterIDD   = errors.New("phone number had an IDD, but after this was not long enough to be a viable phone number")
	ErrTooShortNSN        = errors.New("the string supplied is too short to be a phone number")
	ErrTooLong            = errors.New("the string supplied is too long to be a phone number")
)

const (
	minNSN      = 2   // the shortest national significant number
	maxNSN      = 17  // the longest (the ITU says 15; Germany has longer)
	maxCC       = 3   // digits of a country calling code
	maxInput    = 250 // bytes: a longer input is refused before any regexp runs
	nonGeo      = "001"
	unknownZone = "ZZ"
)

// Number is a parsed phone number.
type Number struct {
	CountryCode int    // the country calling code, e.g. 86
	NSN         string // the national significant number, digits only, e.g. "13800138000"
}

type callingCode struct {
	cc      int
	regions []string
}

// region is one region's metadata (libphonenumber's PhoneMetadata, the parts
// parsing, validation and formatting read).
type region struct {
	id                            string
	cc                            int
	idd                           string // international (IDD) prefix pattern
	npParse, npTransform, leading string
	general                       desc
	local                         []int8 // lengths possible only locally
	types                         []desc // a number matching any of these (and general) is valid
	formats, intl                 []numberFormat
}

type desc struct {
	pattern string
	lengths []int8
}

type numberFormat struct{ pattern, format, leading, npRule string }

// regionsOf returns the regions of calling code cc, the main one first.
func regionsOf(cc int) []string {
	i := sort.Search(len(callingCodes), func(i int) bool { return callingCodes[i].cc >= cc })
	if i < len(callingCodes) && callingCodes[i].cc == cc {
		return callingCodes[i].regions
	}
	return nil
}

// metadataFor returns the metadata of a supported region, or of the
// non-geographic entity of cc when id is "001"; nil when there is none.
func metadataFor(id string, cc int) *region {
	i := sort.Search(len(metadata), func(i int) bool {
		m := &metadata[i]
		return m.id > id || m.id == id && (id != nonGeo || m.cc >= cc)
	})
	if i == len(metadata) || metadata[i].id != id || id == nonGeo && metadata[i].cc != cc {
		return nil
	}
	return &metadata[i]
}

// supported reports whether id is a region code misetup knows ("CN"),
// as libphonenumber's isValidRegionCode.
func supported(id string) bool {
	return id != "" && id != nonGeo && metadataFor(id, 0) != nil
}

// CountryCodeForRegion returns the calling code of a region ("CN" → 86),
// or 0 for a code that is not a supported region.
func CountryCodeForRegion(id string) int {
	if !supported(id) {
		return 0
	}
	return metadataFor(id, 0).cc
}

var (
	reMu    sync.Mutex
	reCache = map[string]*regexp.Regexp{}
)

// re compiles a pattern once; patterns are compiled on first use, not at
// start-up.
func re(pattern string) *regexp.Regexp {
	reMu.Lock()
	defer reMu.Unlock()
	r, ok := reCache[pattern]
	if !ok {
		r = regexp.MustCompile(pattern)
		reCache[pattern] = r
	}
	return r
}

func fullMatch(pattern, s string) bool { return re("^(?:" + pattern + ")$").MatchString(s) }

// prefixMatch reports whether pattern matches at the start of s (the
// leftmost match of the unanchored pattern starts at 0, as libphonenumber
// tests it).
func prefixMatch(pattern, s string) bool {
	loc := re(pattern).FindStringIndex(s)
	return loc != nil && loc[0] == 0
}

func isPlus(r rune) bool { return r == '+' || r == '＋' }

// isPunct is libphonenumber's VALID_PUNCTUATION without the letter x.
func isPunct(r rune) bool {
	switch r {
	case '-', ' ', '(', ')', '.', '/', '[', ']', '~',
		'\u2212', '\u30FC', '\u00A0', '\u00AD', '\u200B', '\u2060', '\u3000',
		'\uFF08', '\uFF09', '\uFF3B', '\uFF3D', '\u2053', '\u223C', '\uFF5E':
		return true
	}
	return r >= '\u2010' && r <= '\u2015' || r >= '\uFF0D' && r <= '\uFF0F'
}

// digit returns the value of a decimal digit of any script, or -1.
func digit(r rune) int {
	if r >= '0' && r <= '9' {
		return int(r - '0')
	}
	// Unicode's decimal digits (Nd) come in runs of ten, 0 to 9, and each
	// range of its table starts at a 0 (adjacent runs share a range).
	for _, rg := range unicode.Digit.R16 {
		if uint32(r) >= uint32(rg.Lo) && uint32(r) <= uint32(rg.Hi) {
			return int(uint32(r)-uint32(rg.Lo)) % 10
		}
	}
	for _, rg := range unicode.Digit.R32 {
		if uint32(r) >= rg.Lo && uint32(r) <= rg.Hi {
			return int(uint32(r)-rg.Lo) % 10
		}
	}
	return -1
}

// normalize keeps the digits of s, as ASCII.
func normalize(s string) string {
	var b strings.Builder
	for _, r := range s {
		if d := digit(r); d >= 0 {
			b.WriteByte(byte('0' + d))
		}
	}
	return b.String()
}

// extractPossibleNumber cuts what comes before the first digit or plus.
// NOTE: libphonenumber also cuts trailing characters that are neither
// digits nor letters, but the Go port's pattern for that (Java's class
// intersection, which RE2 reads as literal characters) never matches; its
// behaviour is kept, so "12345+" is not a number.
func extractPossibleNumber(s string) string {
	start := strings.IndexFunc(s, func(r rune) bool { return isPlus(r) || unicode.IsDigit(r) })
	if start < 0 {
		return ""
	}
	return s[start:]
}

// viable is libphonenumber's isViablePhoneNumber for inputs without
// letters: two digits alone, or pluses then at least three digits among
// punctuation.
func viable(s string) bool {
	if len(s) < minNSN {
		return false
	}
	digits, other := 0, false
	rest := strings.TrimLeftFunc(s, isPlus)
	for _, r := range rest {
		switch {
		case unicode.IsDigit(r):
			digits++
		case isPunct(r):
			other = true
		default:
			return false
		}
	}
	if digits == 2 && !other && rest == s {
		return true
	}
	return digits >= 3
}

// Parse parses s as typed, with region the default country (ISO 3166
// alpha-2, upper case) for a number without a +country prefix.
func Parse(s, defaultRegion string) (Number, error) {
	if s == "" {
		return Number{}, ErrNotANumber
	}
	if len(s) > maxInput {
		return Number{}, ErrTooLong
	}
	if strings.IndexFunc(s, unicode.IsLetter) >= 0 {
		return Number{}, ErrNotANumber
	}
	number := extractPossibleNumber(s)
	if !viable(number) {
		return Number{}, ErrNotANumber
	}
	if !supported(defaultRegion) && strings.IndexFunc(number, isPlus) < 0 {
		return Number{}, ErrInvalidCountryCode
	}
	var md *region
	if supported(defaultRegion) {
		md = metadataFor(defaultRegion, 0)
	}
	cc, nsn, err := extractCountryCode(number, md)
	if err != nil {
		i := strings.IndexFunc(number, isPlus)
		if err != ErrInvalidCountryCode || i < 0 {
			return Number{}, err
		}
		// Strip up to the pluses and try again (libphonenumber does).
		after := strings.TrimLeftFunc(number[i:], isPlus)
		if cc, nsn, err = extractCountryCode(after, md); err != nil {
			return Number{}, err
		} else if cc == 0 {
			return Number{}, ErrInvalidCountryCode
		}
	}
	if cc != 0 {
		if r := mainRegion(cc); r != defaultRegion {
			md = metadataFor(r, cc)
		}
	} else {
		nsn = normalize(number)
		if md != nil {
			cc = md.cc
		}
	}
	if len(nsn) < minNSN {
		return Number{}, ErrTooShortNSN
	}
	if md != nil {
		if stripped, ok := stripNationalPrefix(nsn, md); ok {
			switch testLength(stripped, md) {
			case tooShort, possibleLocalOnly, invalidLength:
			default:
				nsn = stripped
			}
		}
	}
	if len(nsn) < minNSN {
		return Number{}, ErrTooShortNSN
	}
	if len(nsn) > maxNSN {
		return Number{}, ErrTooLong
	}
	return Number{CountryCode: cc, NSN: nsn}, nil
}

// mainRegion is the main region of a calling code ("ZZ" for none).
func mainRegion(cc int) string {
	if r := regionsOf(cc); len(r) > 0 {
		return r[0]
	}
	return unknownZone
}

// extractCountryCode is libphonenumber's maybeExtractCountryCode: the
// calling code after a + or the region's IDD prefix, or the region's own
// code written without +; 0 and no error when there is none.
func extractCountryCode(number string, md *region) (cc int, nsn string, err error) {
	if number == "" {
		return 0, "", nil
	}
	idd := "NonMatch"
	if md != nil {
		idd = md.idd
	}
	full, international := stripInternationalPrefix(number, idd)
	if international {
		if len(full) <= minNSN {
			return 0, "", ErrTooShortAfterIDD
		}
		if full[0] != '0' {
			for i := 1; i <= maxCC && i <= len(full); i++ {
				c, _ := strconv.Atoi(full[:i])
				if regionsOf(c) != nil {
					return c, full[i:], nil
				}
			}
		}
		return 0, "", ErrInvalidCountryCode
	}
	if md != nil {
		own := strconv.Itoa(md.cc)
		if rest, ok := strings.CutPrefix(full, own); ok {
			national, _ := stripNationalPrefix(rest, md)
			fullValid := fullMatch(md.general.pattern, full)
			nationalValid := fullMatch(md.general.pattern, national)
			if !fullValid && nationalValid || testLength(full, md) == tooLong {
				return md.cc, national, nil
			}
		}
	}
	return 0, "", nil
}

// stripInternationalPrefix normalises number and takes off a leading + or
// IDD prefix, saying whether it did.
func stripInternationalPrefix(number, idd string) (string, bool) {
	if rest := strings.TrimLeftFunc(number, isPlus); rest != number {
		return normalize(rest), true
	}
	number = normalize(number)
	loc := re(idd).FindStringIndex(number)
	if loc == nil || loc[0] != 0 {
		return number, false
	}
	if rest := number[loc[1]:]; rest != "" && rest[0] == '0' {
		return number, false // a 0 after the IDD prefix is not a calling code
	}
	return number[loc[1]:], true
}

// stripNationalPrefix is libphonenumber's
// maybeStripNationalPrefixAndCarrierCode: the number without the region's
// national (trunk) prefix, unless stripping it would spoil a number that
// fits the region's pattern.
func stripNationalPrefix(number string, md *region) (string, bool) {
	if number == "" || md.npParse == "" {
		return number, false
	}
	prefix := re("^(?:" + md.npParse + ")")
	groups := prefix.FindStringSubmatchIndex(number)
	if groups == nil {
		return number, false
	}
	viableOriginal := fullMatch(md.general.pattern, number)
	last := len(groups)/2 - 1
	if md.npTransform == "" || groups[last*2] < 0 {
		if viableOriginal && !fullMatch(md.general.pattern, number[groups[1]:]) {
			return number, false
		}
		return number[groups[1]:], true
	}
	transformed := prefix.ReplaceAllString(number, md.npTransform)
	if viableOriginal && !fullMatch(md.general.pattern, transformed) {
		return number, false
	}
	return transformed, true
}

type lengthResult int

const (
	isPossible lengthResult = iota
	possibleLocalOnly
	tooShort
	tooLong
	invalidLength
)

// testLength is libphonenumber's testNumberLength for any type of number.
func testLength(number string, md *region) lengthResult {
	lengths := md.general.lengths
	if lengths[0] == -1 {
		return invalidLength
	}
	n := int8(min(len(number), 127))
	for _, l := range md.local {
		if l == n {
			return possibleLocalOnly
		}
	}
	switch {
	case lengths[0] == n:
		return isPossible
	case lengths[0] > n:
		return tooShort
	case lengths[len(lengths)-1] < n:
		return tooLong
	}
	for _, l := range lengths[1:] {
		if l == n {
			return isPossible
		}
	}
	return invalidLength
}

// matches is libphonenumber's isNumberMatchingDesc.
func (d desc) matches(nsn string) bool {
	if len(d.lengths) > 0 {
		found := false
		for _, l := range d.lengths {
			found = found || int(l) == len(nsn)
		}
		if !found {
			return false
		}
	}
	return fullMatch(d.pattern, nsn)
}

// known reports whether nsn is a number of some type in md (libphonenumber's
// getNumberTypeHelper is not UNKNOWN).
func (md *region) known(nsn string) bool {
	if !md.general.matches(nsn) {
		return false
	}
	for _, d := range md.types {
		if d.matches(nsn) {
			return true
		}
	}
	return false
}

// Region returns the region of the number ("" when no region of its calling
// code has it; "001" for a non-geographic code).
func (n Number) Region() string {
	regions := regionsOf(n.CountryCode)
	if len(regions) <= 1 {
		if len(regions) == 0 {
			return ""
		}
		return regions[0]
	}
	for _, id := range regions {
		md := metadataFor(id, n.CountryCode)
		if md.leading != "" {
			if re("^(?:" + md.leading + ")").MatchString(n.NSN) {
				return id
			}
		} else if md.known(n.NSN) {
			return id
		}
	}
	return ""
}

// Valid reports whether the number is a valid number of its region.
func (n Number) Valid() bool {
	id := n.Region()
	md := metadataFor(id, n.CountryCode)
	if md == nil || id != nonGeo && (!supported(id) || md.cc != n.CountryCode) {
		return false
	}
	return md.known(n.NSN)
}

// Possible reports whether the number has a length its calling code uses.
func (n Number) Possible() bool {
	if regionsOf(n.CountryCode) == nil {
		return false
	}
	md := metadataFor(mainRegion(n.CountryCode), n.CountryCode)
	if md == nil {
		return false
	}
	if md.general.pattern == "" {
		return len(n.NSN) >= minNSN && len(n.NSN) <= maxNSN
	}
	r := testLength(n.NSN, md)
	return r == isPossible || r == possibleLocalOnly
}

// E164 formats the number as +8613800138000.
func (n Number) E164() string { return "+" + strconv.Itoa(n.CountryCode) + n.NSN }

// International formats the number as +86 138 0013 8000.
func (n Number) International() string {
	if regionsOf(n.CountryCode) == nil {
		return n.NSN
	}
	return "+" + strconv.Itoa(n.CountryCode) + " " + n.format(false)
}

// National formats the number as its region writes it at home, with the
// trunk prefix: 138 0013 8000, 07911 123456.
func (n Number) National() string {
	if regionsOf(n.CountryCode) == nil {
		return n.NSN
	}
	return n.format(true)
}

// format is libphonenumber's formatNsn.
func (n Number) format(national bool) string {
	md := metadataFor(mainRegion(n.CountryCode), n.CountryCode)
	if md == nil {
		return n.NSN
	}
	formats := md.intl
	if len(formats) == 0 || national {
		formats = md.formats
	}
	for _, f := range formats {
		if !fullMatch(f.pattern, n.NSN) || f.leading != "" && !prefixMatch(f.leading, n.NSN) {
			continue
		}
		rule := f.format
		if national && f.npRule != "" {
			done := false
			rule = re(`(\$\d)`).ReplaceAllStringFunc(rule, func(s string) string {
				if done {
					return s
				}
				done = true
				return f.npRule
			})
		}
		return re(f.pattern).ReplaceAllString(n.NSN, rule)
	}
	return n.NSN
}
