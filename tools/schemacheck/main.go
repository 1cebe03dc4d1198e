// Command schemacheck validates YAML or JSON files against a JSON schema,
// offline: schemacheck SCHEMA FILE...
package main

import (
	"bytes"
	"encoding/json"
	"fmt"
	"os"

	"github.com/santhosh-tekuri/jsonschema/v6"
	"gopkg.in/yaml.v3"
)

func main() {
	if len(os.Args) < 3 {
		fmt.Fprintln(os.Stderr, "usage: schemacheck SCHEMA FILE...")
		os.Exit(2)
	}
	c := jsonschema.NewCompiler()
	sch, err := c.Compile(os.Args[1])
	if err != nil {
		fmt.Fprintf(os.Stderr, "schemacheck: %v\n", err)
		os.Exit(2)
	}
	failed := false
	for _, f := range os.Args[2:] {
		if err := check(sch, f); err != nil {
			fmt.Fprintf(os.Stderr, "%s: %v\n", f, err)
			failed = true
			continue
		}
		fmt.Printf("%s: valid against %s\n", f, os.Args[1])
	}
	if failed {
		os.Exit(1)
	}
}

func check(sch *jsonschema.Schema, file string) error {
	b, err := os.ReadFile(file)
	if err != nil {
		return err
	}
	// yaml.v3 keeps keys like "on" as strings; JSON is YAML too.
	var doc any
	if err := yaml.Unmarshal(b, &doc); err != nil {
		return err
	}
	// Round-trip through JSON so the validator sees JSON types.
	j, err := json.Marshal(doc)
	if err != nil {
		return err
	}
	v, err := jsonschema.UnmarshalJSON(bytes.NewReader(j))
	if err != nil {
		return err
	}
	return sch.Validate(v)
}
