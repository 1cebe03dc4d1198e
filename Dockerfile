# syntax=docker/dockerfile:1
# The image of the GitHub Action, also usable as a CircleCI executor: the static
# binary, CA certificates, and busybox's /bin/sh, which CircleCI needs to run
# steps in a primary container (it ignores the image's entrypoint there).

FROM golang:1.26-alpine AS build
WORKDIR /src
COPY go.mod go.sum ./
RUN go mod download
COPY . .
ARG VERSION=dev
RUN CGO_ENABLED=0 go build -trimpath -ldflags="-s -w -X main.version=${VERSION}" -o /out/circleci-trigger .

FROM busybox:1.37-musl
COPY --from=build /etc/ssl/certs/ca-certificates.crt /etc/ssl/certs/ca-certificates.crt
COPY --from=build /out/circleci-trigger /usr/local/bin/circleci-trigger
# GitHub runs Docker actions as the image's default user (root here), as its
# docs recommend: the workspace and file commands it mounts are root's.
ENTRYPOINT ["/usr/local/bin/circleci-trigger"]
