package fake

import (
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"strconv"
	"testing"
	"time"
)

func TestPexelsHeadersOnEveryAnswer(t *testing.T) {
	t.Parallel()
	s := New()
	ts := httptest.NewServer(s.Handler())
	defer ts.Close()
	s.BaseURL = ts.URL
	for _, tc := range []struct {
		path   string
		status int
	}{
		{"/v1/search?query=cat", 200},
		{"/videos/search?query=city", 200},
		{"/v1/search", 400},
	} {
		resp, err := http.Get(ts.URL + tc.path)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		reset, _ := strconv.ParseInt(resp.Header.Get("X-Ratelimit-Reset"), 10, 64)
		if resp.StatusCode != tc.status || resp.Header.Get("X-Ratelimit-Limit") != "20000" ||
			resp.Header.Get("X-Ratelimit-Remaining") == "" || time.Unix(reset, 0).Before(time.Now()) {
			t.Fatalf("%s: %s %v", tc.path, resp.Status, resp.Header)
		}
	}
	s.Configure("pexels.", RouteConfig{Faults: map[string]float64{FaultServer: 1}})
	resp, err := http.Get(ts.URL + "/v1/search?query=cat")
	if err != nil {
		t.Fatal(err)
	}
	var body map[string]string
	_ = json.NewDecoder(resp.Body).Decode(&body)
	resp.Body.Close()
	if resp.StatusCode != 500 || resp.Header.Get("X-Ratelimit-Limit") == "" || body["error"] == "" {
		t.Fatalf("fault: %s %v %v", resp.Status, resp.Header, body)
	}
}
