#!/usr/bin/env python3
"""Extract the schemas of the operations circleci-trigger uses from CircleCI's
OpenAPI v2 spec into circlecitest/testdata/openapi-subset.json, with $refs
resolved, so the simulator's answers can be checked against them.

Usage: scripts/extract-openapi.py path/to/circleci-openapi-v2.json
"""
import json
import sys

OPS = {"getPipelineById", "listWorkflowsByPipelineId", "listWorkflowJobs", "triggerPipeline",
       "triggerPipelineRun", "listMyPipelines", "cancelWorkflow", "getWorkflowById",
       "getCurrentUser", "getPipelineConfigById", "listPipelinesForProject", "getTests",
       "getJobArtifacts", "rerunWorkflow", "getProjectWorkflowMetrics", "getProjectWorkflowRuns",
       "getWorkflowSummary", "getProjectWorkflowJobMetrics"}

spec = json.load(open(sys.argv[1]))


def resolve(x):
    if isinstance(x, dict):
        if "$ref" in x:
            y = spec
            for p in x["$ref"].lstrip("#/").split("/"):
                y = y[p]
            return resolve(y)
        return {k: resolve(v) for k, v in x.items() if k not in ("example", "x-codeSamples", "description")}
    if isinstance(x, list):
        return [resolve(v) for v in x]
    return x


ops = {}
for path, methods in spec["paths"].items():
    for method, op in methods.items():
        if not isinstance(op, dict) or op.get("operationId") not in OPS:
            continue
        responses = {}
        for code, r in op["responses"].items():
            schema = resolve(r).get("content", {}).get("application/json", {}).get("schema")
            if schema:
                responses[code] = schema
        request = None
        if "requestBody" in op:
            request = resolve(op["requestBody"]).get("content", {}).get("application/json", {}).get("schema")
        ops[op["operationId"]] = {"method": method.upper(), "path": path, "responses": responses, "request": request}

about = ("Response and request schemas of the operations circleci-trigger uses, with $refs resolved, "
         "extracted from CircleCI OpenAPI v2 (circleci-docs openapi-final.json, commit c30e2bde, 2025-10-17). "
         "Regenerate with scripts/extract-openapi.py.")
with open("circlecitest/testdata/openapi-subset.json", "w") as f:
    json.dump({"_about": about, "operations": ops}, f, indent=1, sort_keys=True)
