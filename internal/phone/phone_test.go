package phone

import (
	"errors"
	"fmt"
	"math/rand/v2"
	"strings"
	"testing"

	"github.com/nyaruka/phonenumbers"
)

// libErrs maps the library's errors onto ours.
var libErrs = map[error]error{
	phonenumbers.ErrNotANumber:         ErrNotANumber,
	phonenumbers.ErrInvalidCountryCode: ErrInvalidCountryCode,
	phonenumbers.ErrTooShortAfterIDD:   ErrTooShortAfterIDD,
	phonenumbers.ErrTooShortNSN:        ErrTooShortNSN,
	phonenumbers.ErrNumTooLong:         ErrTooLong,
}

// compare parses s for region with this package and with libphonenumber
// (nyaruka/phonenumbers) and reports the first difference, or "".
func compare(s, region string) string {
	got, err := Parse(s, region)
	lib, lerr := phonenumbers.Parse(s, region)
	if lerr != nil || err != nil {
		if want, ok := libErrs[lerr]; !ok && lerr != nil || !errors.Is(err, want) {
			return fmt.Sprintf("error %v, libphonenumber %v", err, lerr)
		}
		return ""
	}
	if lib.GetExtension() != "" {
		return "" // letters are refused before parsing here
	}
	pairs := [][2]any{
		{got.CountryCode, int(lib.GetCountryCode())},
		{got.NSN, phonenumbers.GetNationalSignificantNumber(lib)},
		{got.Valid(), phonenumbers.IsValidNumber(lib)},
		{got.Possible(), phonenumbers.IsPossibleNumber(lib)},
		{got.Region(), phonenumbers.GetRegionCodeForNumber(lib)},
		{got.E164(), phonenumbers.Format(lib, phonenumbers.E164)},
		{got.International(), phonenumbers.Format(lib, phonenumbers.INTERNATIONAL)},
		{got.National(), phonenumbers.Format(lib, phonenumbers.NATIONAL)},
	}
	for i, p := range pairs {
		if p[0] != p[1] {
			return fmt.Sprintf("field %d: %v, libphonenumber %v", i, p[0], p[1])
		}
	}
	return ""
}

// inputs are numbers of every region as people type them: the example
// numbers of each type in national, international and E.164 form, with
// the IDD prefix, with the country code but no +, in full-width digits,
// and mutated (a digit more or less, other separators).
func inputs() []string {
	rng := rand.New(rand.NewPCG(1, 2))
	var out []string
	types := []phonenumbers.PhoneNumberType{phonenumbers.FIXED_LINE, phonenumbers.MOBILE, phonenumbers.TOLL_FREE,
		phonenumbers.PREMIUM_RATE, phonenumbers.VOIP, phonenumbers.UAN}
	for r := range phonenumbers.GetSupportedRegions() {
		for _, t := range types {
			n := phonenumbers.GetExampleNumberForType(r, t)
			if n == nil {
				continue
			}
			nat := phonenumbers.Format(n, phonenumbers.NATIONAL)
			intl := phonenumbers.Format(n, phonenumbers.INTERNATIONAL)
			e164 := phonenumbers.Format(n, phonenumbers.E164)
			nsn := phonenumbers.GetNationalSignificantNumber(n)
			cc := fmt.Sprint(n.GetCountryCode())
			out = append(out, nat, intl, e164, nsn, cc+nsn, "00"+cc+nsn, "011 "+cc+" "+nsn,
				"+"+cc+" 0"+nsn, toFullWidth(intl), "("+nsn[:min(3, len(nsn))]+") "+nsn[min(3, len(nsn)):],
				nsn[:len(nsn)-1], nsn+"1", "+"+cc+nsn+"12", "0"+nsn, "+"+cc, "+0"+cc+nsn, "++"+cc+nsn)
			for range 4 {
				out = append(out, mutate(rng, nat), mutate(rng, intl))
			}
		}
	}
	return append(out, "", "1", "12", "1 2", "+", "+1", "+12", "+999 1234 5678", "00", "0086", "(", "+86 1",
		"+86 "+strings.Repeat("1", 70), strings.Repeat("9", 300), "138+0013", "+８６ １３８ ００１３ ８０００",
		"٠١٢٣٤٥٦٧٨٩", "+800 1234 5678", "+882 1234 5678", "-138-", "/+44 20", "1/2/3")
}

func toFullWidth(s string) string {
	return strings.Map(func(r rune) rune {
		if r >= '0' && r <= '9' {
			return '０' + (r - '0')
		}
		return r
	}, s)
}

func mutate(rng *rand.Rand, s string) string {
	b := []rune(s)
	i := rng.IntN(len(b) + 1)
	switch rng.IntN(4) {
	case 0: // a digit more
		b = append(b[:i], append([]rune{rune('0' + rng.IntN(10))}, b[i:]...)...)
	case 1: // a character less
		if i < len(b) {
			b = append(b[:i], b[i+1:]...)
		}
	case 2: // another separator
		b = append(b[:i], append([]rune{[]rune(" -./()")[rng.IntN(6)]}, b[i:]...)...)
	case 3: // separators gone
		return strings.NewReplacer(" ", "", "-", "").Replace(s)
	}
	return string(b)
}

// regionsToTry are default regions: none, unknown, and every supported one
// for each input (a sample, to keep the test short).
func regionsToTry(rng *rand.Rand) []string {
	all := []string{"", "XX", "CN", "US", "GB", "IT", "AR", "MX", "DE", "RU", "IN", "BR", "FR", "JP", "KR", "AU"}
	for r := range phonenumbers.GetSupportedRegions() {
		if rng.IntN(40) == 0 {
			all = append(all, r)
		}
	}
	return all
}

func TestAgainstLibphonenumber(t *testing.T) {
	rng := rand.New(rand.NewPCG(3, 4))
	ins := inputs()
	if raceDetector || testing.Short() {
		// Every 16th input: the whole list takes minutes under -race.
		sample := ins[:0:0]
		for i := 0; i < len(ins); i += 16 {
			sample = append(sample, ins[i])
		}
		ins = sample
	}
	fails := 0
	for _, s := range ins {
		for _, r := range regionsToTry(rng) {
			if d := compare(s, r); d != "" {
				t.Errorf("Parse(%q, %q): %s", s, r, d)
				if fails++; fails > 20 {
					t.Fatal("too many differences")
				}
			}
		}
	}
	t.Logf("%d inputs compared", len(ins))
}

func TestCountryCodeForRegion(t *testing.T) {
	for r := range phonenumbers.GetSupportedRegions() {
		if got, want := CountryCodeForRegion(r), phonenumbers.GetCountryCodeForRegion(r); got != want {
			t.Errorf("CountryCodeForRegion(%q) = %d, want %d", r, got, want)
		}
	}
	for _, r := range []string{"", "XX", "001", "cn", "ZZ"} {
		if got, want := CountryCodeForRegion(r), phonenumbers.GetCountryCodeForRegion(r); got != want {
			t.Errorf("CountryCodeForRegion(%q) = %d, want %d", r, got, want)
		}
	}
}

// FuzzAgainstLibphonenumber compares this package with libphonenumber on
// any input made of what misetup lets through to a parse: digits of any
// script, spaces, - . ( ) / and pluses.
func FuzzAgainstLibphonenumber(f *testing.F) {
	for _, s := range []string{"+86 138 0013 8000", "07911 123456", "(201) 555-0123", "0086 138 0013 8000", "+８６ １３８"} {
		f.Add(s, uint8(0))
	}
	regions := []string{"", "CN", "US", "GB", "IT", "AR", "MX", "XX", "DE", "BR"}
	f.Fuzz(func(t *testing.T, s string, r uint8) {
		if strings.IndexFunc(s, func(c rune) bool {
			return !(digit(c) >= 0 && (c < 0x80 || c >= '０' && c <= '９' || c >= '٠' && c <= '٩' || c >= '۰' && c <= '۹')) &&
				!strings.ContainsRune(" -./()+", c)
		}) >= 0 {
			return
		}
		region := regions[int(r)%len(regions)]
		if d := compare(s, region); d != "" {
			t.Fatalf("Parse(%q, %q): %s", s, region, d)
		}
	})
}

func TestDigit(t *testing.T) {
	for _, tt := range []struct {
		r    rune
		want int
	}{
		{'0', 0}, {'7', 7}, {'０', 0}, {'９', 9}, {'٣', 3}, {'۷', 7}, {'३', 3},
		{'\U0001D7D9', 1}, {'\U0001D7FF', 9}, {'a', -1}, {'+', -1}, {'²', -1},
	} {
		if got := digit(tt.r); got != tt.want {
			t.Errorf("digit(%q) = %d, want %d", tt.r, got, tt.want)
		}
	}
}
