package keystore

import (
	"bytes"
	"encoding/json"
	"reflect"
	"testing"
)

// TestEntryJSONMatchesEncodingJSON checks the hand-written encoder against
// encoding/json on the same struct (via a type without MarshalJSON).
func TestEntryJSONMatchesEncodingJSON(t *testing.T) {
	type plain Entry
	for _, r := range indexSeed() {
		e := r.Entry
		e.UserIDs = append(e.UserIDs, "bad utf8 \xff\xfe", "line\u2028sep", "rlo\u202eevil\u2066x", "c1 \u009b2J", `quote " back \ slash`, "<html> & \x00")
		ours := e.AppendJSON(nil)
		var theirs bytes.Buffer
		enc := json.NewEncoder(&theirs)
		enc.SetEscapeHTML(false)
		if err := enc.Encode(plain(e)); err != nil {
			t.Fatal(err)
		}
		if bytes.Contains(ours, []byte("\u202e")) || bytes.Contains(ours, []byte("\u2066")) || bytes.Contains(ours, []byte("\u009b")) {
			t.Fatalf("raw bidi control in JSON: %s", ours)
		}
		var a, b map[string]any
		if err := json.Unmarshal(ours, &a); err != nil {
			t.Fatalf("our JSON does not parse: %v\n%s", err, ours)
		}
		json.Unmarshal(theirs.Bytes(), &b)
		if !reflect.DeepEqual(a, b) {
			t.Fatalf("differs:\nours   %s\ntheirs %s", ours, theirs.Bytes())
		}
	}
}
