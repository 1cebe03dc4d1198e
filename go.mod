module github.com/circleci-trigger/circleci-trigger

go 1.25

require (
	github.com/cenkalti/backoff/v4 v4.3.0
	github.com/sethvargo/go-githubactions v1.4.0
	github.com/tidwall/gjson v1.18.0
	gopkg.in/yaml.v3 v3.0.1
)

require (
	github.com/tidwall/match v1.1.1 // indirect
	github.com/tidwall/pretty v1.2.0 // indirect
)
