package trigger_test

import (
	"context"
	"fmt"

	"github.com/circleci-trigger/circleci-trigger/circleci"
	"github.com/circleci-trigger/circleci-trigger/circlecitest"
	"github.com/circleci-trigger/circleci-trigger/trigger"
)

// Trigger a pipeline with typed parameters. The simulated CircleCI of
// circlecitest stands in for https://circleci.com here.
func Example() {
	srv := circlecitest.NewServer(circlecitest.MustParse(`{"projects": [{"slug": "gh/acme/api", "branches": ["main"],
		"parameters": {"deploy": "boolean", "replicas": "integer"}}]}`), nil)
	defer srv.Close()
	c := srv.Client() // in production: &circleci.Client{Token: os.Getenv("CIRCLE_TOKEN")}

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
