# syntax=docker/dockerfile:1
# The enforcement auditor's image: a static binary on distroless, non-root.
#
#   docker build --build-arg VERSION=$(git describe --tags --always --dirty) \
#     --build-arg REVISION=$(git rev-parse HEAD) -t ghcr.io/llm-platform/enforcement-auditor:<tag> .
#
# The binary is built exactly as `make build` builds it (CGO_ENABLED=0, -trimpath, the
# same -ldflags). Base images are pinned by tag and digest; update both together (the
# digests are multi-arch indexes: `crane digest <image>:<tag>` prints the current one).

# Builder: the Go toolchain go.mod asks for (go 1.26), on the build platform, cross-compiling
# to the target platform.
FROM --platform=$BUILDPLATFORM golang:1.26.8-bookworm@sha256:dc9ad6c05acc7a88e5b71bde60a5fe3bd4b9f0db209011711b464107438a8107 AS build
ARG TARGETOS
ARG TARGETARCH
ARG VERSION=dev
ARG REVISION=unknown
WORKDIR /src
# Dependencies in their own layer: a source change does not download modules again.
COPY go.mod go.sum ./
RUN --mount=type=cache,target=/go/pkg/mod go mod download
COPY . .
RUN --mount=type=cache,target=/go/pkg/mod --mount=type=cache,target=/root/.cache/go-build \
    CGO_ENABLED=0 GOOS=${TARGETOS} GOARCH=${TARGETARCH} go build -trimpath \
      -ldflags "-s -w -X github.com/llm-platform/enforcement-auditor/auditor/version.Version=${VERSION} -X github.com/llm-platform/enforcement-auditor/auditor/version.Revision=${REVISION}" \
      -o /out/enforcement-auditor ./cmd/enforcement-auditor

# Runtime: no shell, no package manager, CA certificates and tzdata only; user nonroot.
FROM gcr.io/distroless/static:nonroot@sha256:e8a4044e0b4ae4257efa45fc026c0bc30ad320d43bd4c1a7d5271bd241e386d0
ARG VERSION=dev
ARG REVISION=unknown
# SPDX expression of the project's license; NOASSERTION until the repository has one.
ARG LICENSES=NOASSERTION
LABEL org.opencontainers.image.title="enforcement-auditor" \
      org.opencontainers.image.description="Proves the LLM platform's budget path, GPU quota and fail-closed budgets are enforced, not merely present" \
      org.opencontainers.image.source="https://github.com/llm-platform/enforcement-auditor" \
      org.opencontainers.image.url="https://github.com/llm-platform/enforcement-auditor" \
      org.opencontainers.image.documentation="https://github.com/llm-platform/enforcement-auditor/blob/main/docs/operate.md" \
      org.opencontainers.image.vendor="llm-platform" \
      org.opencontainers.image.version="${VERSION}" \
      org.opencontainers.image.revision="${REVISION}" \
      org.opencontainers.image.licenses="${LICENSES}" \
      org.opencontainers.image.base.name="gcr.io/distroless/static:nonroot" \
      org.opencontainers.image.base.digest="sha256:e8a4044e0b4ae4257efa45fc026c0bc30ad320d43bd4c1a7d5271bd241e386d0"
COPY --from=build /out/enforcement-auditor /enforcement-auditor
USER 65532:65532
EXPOSE 8080
ENTRYPOINT ["/enforcement-auditor"]
CMD ["run"]
