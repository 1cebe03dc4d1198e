module example.com/deploy-then-test

go 1.25

require github.com/circleci-trigger/circleci-trigger v0.0.0

require (
	github.com/cenkalti/backoff/v4 v4.3.0 // indirect
	github.com/tidwall/gjson v1.18.0 // indirect
	github.com/tidwall/match v1.1.1 // indirect
	github.com/tidwall/pretty v1.2.0 // indirect
)

replace github.com/circleci-trigger/circleci-trigger => ../..
