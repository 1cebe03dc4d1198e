package trigger_test

import (
	"context"
	"fmt"
	"net/http/httptest"

	"github.com/circleci-trigger/circleci-trigger/circleci"
	"github.com/circleci-trigger/circleci-trigger/internal/sim"
	"github.com/circleci-trigger/circleci-trigger/trigger"
)

// Trigger a pipeline with typed parameters. The bundled simulator stands
// in for https://circleci.com/api/v2 here.
func Example() {
	srv := httptest.NewServer(sim.New(sim.MustParse(`{"projects": [{"slug": "gh/acme/api", "branches": ["main"],
		"parameters": {"deploy": "boolean", "replicas": "integer"}}]}`), nil))
	defer srv.Close()
	c := &circleci.Client{BaseURL: srv.URL + "/api/v2", Token: sim.DefaultToken}

	slug, err := circleci.ParseSlug("gh/acme/api")
	if err != nil {
		fmt.Println(err)
		return
	}
	params, err := trigger.ParseParameters(`{"deploy": true, "replicas": 3}`)
	if err != nil {
		fmt.Println(err)
		return
	}
	r := trigger.Request{Slug: slug, Branch: "main", Parameters: params}
	if err := r.Validate(); err != nil { // checks everything that can be checked before sending
		fmt.Println(err)
		return
	}
	res, err := trigger.Trigger(context.Background(), c, r, trigger.Options{})
	if err != nil {
		fmt.Println(err)
		return
	}
	fmt.Printf("pipeline #%d of %s on %s, %s\n", res.Pipeline.Number, r.Slug, r.Ref(), res.Pipeline.State)
	// Output: pipeline #1 of gh/acme/api on branch main, pending
}

// Parameters keep their JSON type, and what CircleCI would refuse is
// refused before anything is sent.
func ExampleParseParameters() {
	_, err := trigger.ParseParameters(`{"ratio": 1.5}`)
	fmt.Println(err)
	// Output: parameters: "ratio" is 1.5; CircleCI takes only integers, strings and booleans (quote it to send a string)
}
