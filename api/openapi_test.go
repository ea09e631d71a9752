package api

import (
	"bytes"
	"context"
	"encoding/json"
	"slices"
	"sort"
	"strings"
	"testing"

	"github.com/getkin/kin-openapi/openapi3"
)

// route is one row of the route tables of API.md §3 and §4.
type route struct {
	method, path string
	public       bool
}

// apiRoutes is every route of API.md §3 (Auth, Users and profile, Social,
// VIP) and §4 (operations). GET / (web client) and GET /media/... (local
// images) are not part of the JSON API and are not in the document.
var apiRoutes = []route{
	// §3 Auth
	{"POST", "/api/v1/verification-codes", true},
	{"POST", "/api/v1/sessions", true},
	{"DELETE", "/api/v1/sessions/current", false},
	// §3 Users and profile
	{"GET", "/api/v1/users/me", false},
	{"PATCH", "/api/v1/users/me", false},
	{"GET", "/api/v1/users/me/profile", false},
	{"PATCH", "/api/v1/users/me/profile", false},
	{"PUT", "/api/v1/users/me/avatar", false},
	{"POST", "/api/v1/users/me/photos", false},
	{"DELETE", "/api/v1/users/me/photos/{id}", false},
	{"GET", "/api/v1/users/{id}", false},
	// §3 Social
	{"GET", "/api/v1/recommendations", false},
	{"POST", "/api/v1/swipes", false},
	{"DELETE", "/api/v1/swipes/latest", false},
	{"GET", "/api/v1/likes/received", false},
	{"GET", "/api/v1/matches", false},
	{"DELETE", "/api/v1/matches/{user_id}", false},
	{"GET", "/api/v1/rank", false},
	// §3 Conversations
	{"GET", "/api/v1/conversations", false},
	{"GET", "/api/v1/conversations/{user_id}/messages", false},
	{"POST", "/api/v1/conversations/{user_id}/messages", false},
	{"POST", "/api/v1/conversations/{user_id}/read", false},
	{"GET", "/api/v1/events", false},
	{"POST", "/api/v1/blocks", false},
	{"DELETE", "/api/v1/blocks/{user_id}", false},
	{"GET", "/api/v1/blocks", false},
	{"POST", "/api/v1/reports", false},
	{"DELETE", "/api/v1/users/me", false},
	{"GET", "/api/v1/users/me/export", false},
	// §3 VIP
	{"GET", "/api/v1/vip", false},
	{"GET", "/api/v1/vip/plans", true},
	// §4 Operations
	{"GET", "/healthz", true},
	{"GET", "/readyz", true},
	{"GET", "/metrics", true},
	{"GET", "/api/v1/openapi.json", true},
}

func loadDoc(t *testing.T, data []byte) *openapi3.T {
	t.Helper()
	doc, err := openapi3.NewLoader().LoadFromData(data)
	if err != nil {
		t.Fatalf("load: %v", err)
	}
	if err := doc.Validate(context.Background()); err != nil {
		t.Fatalf("validate: %v", err)
	}
	return doc
}

func TestDocumentIsValid(t *testing.T) {
	doc := loadDoc(t, YAML())
	if doc.OpenAPI != "3.0.3" {
		t.Errorf("openapi = %q, want 3.0.3", doc.OpenAPI)
	}
	if doc.Info.Title != "Swiper API" || doc.Info.Version != "1.0.0" {
		t.Errorf("info = %q %q", doc.Info.Title, doc.Info.Version)
	}
	if len(doc.Servers) != 1 || doc.Servers[0].URL != "/" {
		t.Errorf("servers = %v, want [/]", doc.Servers)
	}
	var tags []string
	for _, tag := range doc.Tags {
		tags = append(tags, tag.Name)
	}
	if want := []string{"auth", "users", "social", "conversations", "safety", "vip", "ops"}; !slices.Equal(tags, want) {
		t.Errorf("tags = %v, want %v", tags, want)
	}
	if _, err := Load(context.Background()); err != nil {
		t.Errorf("Load: %v", err)
	}
}

func TestEveryRouteIsDocumented(t *testing.T) {
	doc := loadDoc(t, YAML())
	want := map[string]bool{}
	for _, r := range apiRoutes {
		want[r.method+" "+r.path] = true
		item := doc.Paths.Value(r.path)
		if item == nil {
			t.Errorf("%s %s: path missing", r.method, r.path)
			continue
		}
		op := item.GetOperation(r.method)
		if op == nil {
			t.Errorf("%s %s: operation missing", r.method, r.path)
			continue
		}
		if op.OperationID == "" || len(op.Tags) != 1 {
			t.Errorf("%s %s: operationId %q, tags %v", r.method, r.path, op.OperationID, op.Tags)
		}
		if op.Responses.Status(200) == nil && (r.path != "/api/v1/events" || op.Responses.Status(101) == nil) {
			t.Errorf("%s %s: no 200 response (101 for the events WebSocket)", r.method, r.path)
		}
	}
	// No undocumented extras either: the document and API.md list the same routes.
	for path, item := range doc.Paths.Map() {
		for method := range item.Operations() {
			if !want[method+" "+path] {
				t.Errorf("%s %s: in the document but not in API.md", method, path)
			}
		}
	}
}

func TestSecurity(t *testing.T) {
	doc := loadDoc(t, YAML())
	bearer := doc.Components.SecuritySchemes["bearerAuth"]
	if bearer == nil || bearer.Value.Type != "http" || bearer.Value.Scheme != "bearer" {
		t.Errorf("bearerAuth = %+v", bearer)
	}
	cookie := doc.Components.SecuritySchemes["cookieAuth"]
	if cookie == nil || cookie.Value.Type != "apiKey" || cookie.Value.In != "cookie" || cookie.Value.Name != "swiper_session" {
		t.Errorf("cookieAuth = %+v", cookie)
	}
	var global []string
	for _, req := range doc.Security {
		for name := range req {
			global = append(global, name)
		}
	}
	sort.Strings(global)
	if !slices.Equal(global, []string{"bearerAuth", "cookieAuth"}) {
		t.Errorf("global security = %v", global)
	}
	for _, r := range apiRoutes {
		op := doc.Paths.Value(r.path).GetOperation(r.method)
		if op == nil {
			continue
		}
		if r.public {
			if op.Security == nil || len(*op.Security) != 0 {
				t.Errorf("%s %s: public route needs `security: []`", r.method, r.path)
			}
			if op.Responses.Status(401) != nil {
				t.Errorf("%s %s: public route documents 401", r.method, r.path)
			}
			continue
		}
		if op.Security != nil {
			t.Errorf("%s %s: authenticated route overrides security", r.method, r.path)
		}
		if !responseHasCodes(op.Responses.Status(401), 1010) {
			t.Errorf("%s %s: 401 with code 1010 missing", r.method, r.path)
		}
	}
}

// responseHasCodes reports whether resp is a JSON error response whose code
// enum contains every one of codes.
func responseHasCodes(resp *openapi3.ResponseRef, codes ...int) bool {
	if resp == nil || resp.Value == nil {
		return false
	}
	mt := resp.Value.Content.Get("application/json")
	if mt == nil || mt.Schema == nil {
		return false
	}
	for _, code := range codes {
		if mt.Schema.Value.VisitJSON(map[string]any{"code": float64(code), "data": "x"}) != nil {
			return false
		}
	}
	return true
}

func TestErrorResponses(t *testing.T) {
	doc := loadDoc(t, YAML())
	type want struct {
		status int
		codes  []int
	}
	cases := map[string][]want{
		"POST /api/v1/verification-codes":     {{400, []int{1000, 1001, 1002}}, {413, []int{4002}}, {429, []int{1006, 1007}}, {503, []int{5001}}},
		"POST /api/v1/sessions":               {{400, []int{1000, 1001, 1002, 1004, 1005}}, {413, []int{4002}}, {429, []int{1007}}},
		"DELETE /api/v1/sessions/current":     {{400, []int{1001}}, {403, []int{4003}}},
		"GET /api/v1/users/me":                {{400, []int{1001}}},
		"PATCH /api/v1/users/me":              {{400, []int{1000, 1001}}, {403, []int{4003}}, {413, []int{4002}}, {429, []int{2008}}},
		"GET /api/v1/users/me/profile":        {{400, []int{1001}}},
		"PATCH /api/v1/users/me/profile":      {{400, []int{1001}}, {403, []int{3001, 4003}}, {413, []int{4002}}},
		"PUT /api/v1/users/me/avatar":         {{400, []int{1000, 1001, 1011}}, {403, []int{4003}}, {413, []int{1011, 4002}}, {415, []int{1011}}, {429, []int{2008}}},
		"POST /api/v1/users/me/photos":        {{400, []int{1011}}, {403, []int{4003}}, {409, []int{1012}}, {413, []int{1011, 4002}}, {415, []int{1011}}, {429, []int{2008}}},
		"DELETE /api/v1/users/me/photos/{id}": {{400, []int{1001}}, {403, []int{4003}}, {404, []int{4000}}},
		"GET /api/v1/users/{id}":              {{400, []int{1001}}, {404, []int{1003}}, {429, []int{2008}}},
		"GET /api/v1/recommendations":         {{400, []int{1001}}},
		"POST /api/v1/swipes":                 {{400, []int{1000, 1001, 2001}}, {403, []int{3001, 4003}}, {404, []int{1003}}, {409, []int{2002}}, {429, []int{2003}}},
		"DELETE /api/v1/swipes/latest":        {{400, []int{1001}}, {403, []int{3001, 4003}}, {404, []int{2004}}, {409, []int{2005, 2010}}, {429, []int{2006}}},
		"GET /api/v1/likes/received":          {{400, []int{1001}}, {403, []int{3001}}},
		"GET /api/v1/matches":                 {{400, []int{1001}}},
		"DELETE /api/v1/matches/{user_id}":    {{400, []int{1001}}, {403, []int{4003}}, {404, []int{2007}}},
		"GET /api/v1/rank":                    {{400, []int{1001}}},
		"GET /api/v1/vip":                     {{400, []int{1001}}},
		"GET /api/v1/vip/plans":               {{400, []int{1001}}},
	}
	for key, wants := range cases {
		method, path, _ := strings.Cut(key, " ")
		op := doc.Paths.Value(path).GetOperation(method)
		for _, w := range wants {
			if !responseHasCodes(op.Responses.Status(w.status), w.codes...) {
				t.Errorf("%s: %d does not document codes %v", key, w.status, w.codes)
			}
		}
	}
	// Every /api/ route documents 500; every 429 and 503 documents a
	// required Retry-After (except /readyz, outside the API, where it is
	// optional).
	for _, r := range apiRoutes {
		op := doc.Paths.Value(r.path).GetOperation(r.method)
		if strings.HasPrefix(r.path, "/api/") && !responseHasCodes(op.Responses.Status(500), 5000) {
			t.Errorf("%s %s: 500 / 5000 missing", r.method, r.path)
		}
		if strings.HasPrefix(r.path, "/api/") && r.path != "/api/v1/openapi.json" && !responseHasCodes(op.Responses.Status(503), 5001) {
			t.Errorf("%s %s: 503 / 5001 missing", r.method, r.path)
		}
		// A query string that does not parse is 1001 on every route of
		// the envelope; a state change with the cookie can be 4003.
		if strings.HasPrefix(r.path, "/api/") && r.path != "/api/v1/openapi.json" && !responseHasCodes(op.Responses.Status(400), 1001) {
			t.Errorf("%s %s: 400 / 1001 (query string) missing", r.method, r.path)
		}
		if !r.public && r.method != "GET" && !responseHasCodes(op.Responses.Status(403), 4003) {
			t.Errorf("%s %s: 403 / 4003 missing", r.method, r.path)
		}
		for _, status := range []int{429, 503} {
			resp := op.Responses.Status(status)
			if resp == nil {
				continue
			}
			h := resp.Value.Headers["Retry-After"]
			if h == nil {
				t.Errorf("%s %s: %d without Retry-After", r.method, r.path, status)
				continue
			}
			if !h.Value.Required && r.path != "/readyz" {
				t.Errorf("%s %s: %d Retry-After not required", r.method, r.path, status)
			}
		}
	}
	login := doc.Paths.Value("/api/v1/sessions").Post.Responses.Status(200)
	if login.Value.Headers["Set-Cookie"] == nil {
		t.Error("login answer does not document Set-Cookie")
	}
	metrics := doc.Paths.Value("/metrics").Get.Responses.Status(200)
	if metrics.Value.Content.Get("text/plain") == nil {
		t.Error("/metrics is not text/plain")
	}
}

// TestReturnedObjectsAreClosed walks every schema reachable from a response
// and checks that objects with properties forbid additional ones, so that
// response validation catches leaked fields.
func TestReturnedObjectsAreClosed(t *testing.T) {
	doc := loadDoc(t, YAML())
	seen := map[*openapi3.Schema]bool{}
	var walk func(where string, ref *openapi3.SchemaRef)
	walk = func(where string, ref *openapi3.SchemaRef) {
		if ref == nil || ref.Value == nil || seen[ref.Value] {
			return
		}
		s := ref.Value
		seen[s] = true
		if ref.Ref != "" {
			where = ref.Ref
		}
		if len(s.Properties) > 0 && s.Type.Is("object") {
			if s.AdditionalProperties.Has == nil || *s.AdditionalProperties.Has {
				t.Errorf("%s: object without additionalProperties: false", where)
			}
			props := make([]string, 0, len(s.Properties))
			for name := range s.Properties {
				props = append(props, name)
			}
			sort.Strings(props)
			for _, name := range props {
				walk(where+"."+name, s.Properties[name])
			}
		}
		walk(where+"[]", s.Items)
		walk(where+"{}", s.AdditionalProperties.Schema)
		for _, list := range []openapi3.SchemaRefs{s.AllOf, s.OneOf, s.AnyOf} {
			for _, sub := range list {
				walk(where, sub)
			}
		}
	}
	for path, item := range doc.Paths.Map() {
		for method, op := range item.Operations() {
			for status, resp := range op.Responses.Map() {
				for mediaType, mt := range resp.Value.Content {
					walk(method+" "+path+" "+status+" "+mediaType, mt.Schema)
				}
			}
		}
	}
}

func TestSchemasAcceptAndReject(t *testing.T) {
	doc := loadDoc(t, YAML())
	schema := func(name string) *openapi3.Schema {
		t.Helper()
		ref := doc.Components.Schemas[name]
		if ref == nil {
			t.Fatalf("schema %s missing", name)
		}
		return ref.Value
	}
	decode := func(s string) any {
		t.Helper()
		var v any
		if err := json.Unmarshal([]byte(s), &v); err != nil {
			t.Fatalf("bad fixture %s: %v", s, err)
		}
		return v
	}
	card := `{"id":2,"nickname":"小雨","gender":"female","age":27,"city":"北京","avatar":"","superliked_me":true,"photos":[]}`
	vip0 := `{"level":0,"name":"非会员","expires_at":null,"permissions":[],"quotas":{"likes_left_today":100,"rewinds_left_today":0}}`
	me := `{"id":1,"phone":"+8613812345678","nickname":"用户5678","gender":"male","birthday":"1990-01-01","age":36,"city":"北京","has_location":false,"avatar":"","photos":[{"id":3,"url":"/media/photos/a.jpg","position":1}],"vip":` + vip0 + `,"created_at":"2026-01-02T03:04:05Z"}`
	cases := []struct {
		schema string
		value  string
		ok     bool
	}{
		{"Card", card, true},
		{"Card", strings.Replace(card, `"photos"`, `"distance_km":3,"photos"`, 1), true},
		{"Card", strings.Replace(card, `"photos"`, `"distance_km":0,"photos"`, 1), false},
		{"Card", strings.Replace(card, `"photos"`, `"phone":"+8613812345678","photos"`, 1), false},
		{"Card", strings.Replace(card, `"photos"`, `"birthday":"1990-01-01","photos"`, 1), false},
		{"Card", strings.Replace(card, `,"superliked_me":true`, ``, 1), false},
		{"Me", me, true},
		{"Me", strings.Replace(me, `+8613812345678`, `13812345678`, 1), false},
		{"Me", strings.Replace(me, `"1990-01-01"`, `"1990-1-1"`, 1), false},
		{"Me", strings.Replace(me, `"has_location":false`, `"has_location":false,"lat":39.9`, 1), false},
		{"VipStatus", vip0, true},
		{"VipStatus", `{"level":3,"name":"黄金会员","expires_at":"2026-12-25T08:00:00Z","permissions":["vipflag","superlike","rewind","who_liked_me","unlimited_like","any_location"],"quotas":{"likes_left_today":null,"rewinds_left_today":3}}`, true},
		{"VipStatus", strings.Replace(vip0, `"rewinds_left_today":0`, `"rewinds_left_today":null`, 1), false},
		{"NullEnvelope", `{"code":0,"data":null}`, true},
		{"NullEnvelope", `{"code":0,"data":{}}`, false},
		{"NullEnvelope", `{"code":1,"data":null}`, false},
		{"SwipeResultEnvelope", `{"code":0,"data":{"matched":false,"match":null}}`, true},
		{"SwipeResultEnvelope", `{"code":0,"data":{"matched":true,"match":{"user":` + card + `,"matched_at":"2026-01-02T03:04:05Z"}}}`, true},
		{"SwipeResultEnvelope", `{"code":0,"data":{"matched":false}}`, false},
		{"SwipeResultEnvelope", `{"code":0,"data":{"matched":true,"match":{"user":` + card + `}}}`, false},
		{"SessionEnvelope", `{"code":0,"data":{"token":"kq3Vb9xYzT1mN4pR8sW2uA5cE7gJ0hL6","expires_at":"2026-02-01T03:04:05Z","created":true,"user":` + me + `}}`, true},
		{"CodeRequestResultEnvelope", `{"code":0,"data":{"expires_in":300,"resend_after":60}}`, true},
		{"Error", `{"code":1001,"data":"invalid profile","errors":{"max_distance":"must be >= min_distance"}}`, true},
		{"Error", `{"code":1001,"data":"invalid","stack":"main.go:1"}`, false},
		{"Error", `{"code":0,"data":"x"}`, false},
		{"UserPatch", `{"lat":null,"lng":null}`, true},
		{"UserPatch", `{"phone":"+8613812345678"}`, false},
		{"UserPatch", `{"nickname":""}`, false},
		{"UserPatch", `{"nickname":"一二三四五六七八九十一二三四五六七八九十一二三四五六七八九十一二"}`, true},
		{"ProfilePatch", `{"max_distance":501}`, false},
		{"ProfilePatch", `{"min_dating_age":17}`, false},
		{"ProfilePatch", `{"dating_gender":"any","vibration":false}`, true},
		{"ProfilePatch", `{"vip":3}`, false},
		{"SwipeRequest", `{"user_id":2,"action":"superlike"}`, true},
		{"SwipeRequest", `{"user_id":2,"action":"love"}`, false},
		{"RewindResultEnvelope", `{"code":0,"data":{"user":` + card + `,"action":"like"}}`, true},
		{"LikesReceivedEnvelope", `{"code":0,"data":{"total":1,"users":[` + card + `]}}`, true},
		{"MatchesPageEnvelope", `{"code":0,"data":{"total":0,"matches":[]}}`, true},
		{"RankEnvelope", `{"code":0,"data":[{"rank":1,"score":5,"user":` + card + `}]}`, true},
		{"RankEnvelope", `{"code":0,"data":[{"rank":1,"score":0,"user":` + card + `}]}`, false},
		{"RankEnvelope", `{"code":0,"data":[{"rank":1,"score":-5,"user":` + card + `}]}`, false},
		{"Error", `{"code":4003,"data":"cross-origin request refused"}`, true},
		{"Error", `{"code":2008,"data":"slow down"}`, true},
		{"Error", `{"code":2010,"data":"matched"}`, true},
		{"Error", `{"code":1013,"data":"suspended"}`, true},
		{"PlanListEnvelope", `{"code":0,"data":[{"level":0,"name":"非会员","permissions":[]},{"level":1,"name":"青铜会员","permissions":["vipflag","superlike"]},{"level":2,"name":"白银会员","permissions":["vipflag","superlike","rewind"]},{"level":3,"name":"黄金会员","permissions":["vipflag","superlike","rewind","who_liked_me","unlimited_like","any_location"]}]}`, true},
	}
	for _, c := range cases {
		err := schema(c.schema).VisitJSON(decode(c.value))
		if (err == nil) != c.ok {
			t.Errorf("%s %s: accepted=%v, want %v (%v)", c.schema, c.value, err == nil, c.ok, err)
		}
	}
}

func TestJSON(t *testing.T) {
	b, err := JSON()
	if err != nil {
		t.Fatal(err)
	}
	if !json.Valid(b) || !bytes.HasPrefix(bytes.TrimSpace(b), []byte("{")) {
		t.Fatal("JSON() is not a JSON object")
	}
	doc := loadDoc(t, b)
	orig := loadDoc(t, YAML())
	if got, want := doc.Paths.Len(), orig.Paths.Len(); got != want {
		t.Errorf("JSON has %d paths, YAML %d", got, want)
	}
	// `security: []` on public routes must survive the conversion.
	op := doc.Paths.Value("/api/v1/sessions").Post
	if op.Security == nil || len(*op.Security) != 0 {
		t.Error("public route lost `security: []` in JSON")
	}
	// Callers get their own copy.
	b[0] = 'X'
	again, _ := JSON()
	if again[0] != '{' {
		t.Error("JSON() returned shared memory")
	}
	y := YAML()
	y[0] = 'X'
	if YAML()[0] == 'X' {
		t.Error("YAML() returned shared memory")
	}
}
