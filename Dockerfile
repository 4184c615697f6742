# syntax=docker/dockerfile:1
#
# The `pattern` image: the CLI and the in-cluster controller (`pattern controller`).
# Built by `patterns/pattern-controller` (set its `image` value to what you push).
#
#   docker build -t ghcr.io/<you>/pattern:0.1.0 .
#
# Stage 1 (build): the Swift 6 toolchain on Debian 12 with the C libraries' headers the shim
# targets (CYAML, CCurl, CGit2, CTestTLS) compile against, then a release build with the Swift
# runtime and Foundation linked statically (--static-swift-stdlib), position-dependent
# (-no-pie: no relative relocations to apply at every start; Benchmarks/lib.sh builds the same way).
# Stage 2 (runtime): Debian 12 slim with only the shared C libraries the binary loads
# (libyaml, libcurl, libgit2) and CA certificates, running as a non-root user.

ARG SWIFT_IMAGE=swift:6.3-bookworm
ARG RUNTIME_IMAGE=debian:bookworm-slim

# ---------------------------------------------------------------------------------------------
FROM ${SWIFT_IMAGE} AS build
RUN export DEBIAN_FRONTEND=noninteractive \
 && apt-get update -qq \
 && apt-get install -y -qq --no-install-recommends \
      libyaml-dev libcurl4-openssl-dev libgit2-dev libssl-dev pkg-config \
 && rm -rf /var/lib/apt/lists/*
WORKDIR /src
# Resolve dependencies first so that source edits reuse this layer.
COPY Package.swift ./
RUN swift package resolve
COPY Sources ./Sources
COPY Plugins ./Plugins
COPY Tests ./Tests
# The image has no .git (.dockerignore): pass the commit for `pattern version`, e.g.
#   docker build --build-arg PATTERN_GIT_COMMIT=$(git rev-parse HEAD) .
# (without it the version says commit "unknown").
ARG PATTERN_GIT_COMMIT=""
RUN PATTERN_GIT_COMMIT="${PATTERN_GIT_COMMIT}" swift build -c release --product pattern --static-swift-stdlib -Xlinker -no-pie \
 && mkdir -p /out \
 && cp "$(swift build -c release -Xlinker -no-pie --show-bin-path)/pattern" /out/pattern \
 && strip /out/pattern

# ---------------------------------------------------------------------------------------------
FROM ${RUNTIME_IMAGE} AS runtime
# Runtime libraries only (no -dev packages, no compilers): libyaml for YAML, libcurl (dlopened) for the
# Kubernetes API, libgit2 for sources, libssl3 (libcrypto) for commit signatures; CA certificates for HTTPS remotes and API servers.
RUN export DEBIAN_FRONTEND=noninteractive \
 && apt-get update -qq \
 && apt-get install -y -qq --no-install-recommends \
      libyaml-0-2 libcurl4 libgit2-1.5 libssl3 ca-certificates \
 && rm -rf /var/lib/apt/lists/* \
 && groupadd --gid 65532 pattern \
 && useradd --uid 65532 --gid 65532 --home-dir /home/pattern --create-home --shell /usr/sbin/nologin pattern \
 && mkdir -p /var/cache/pattern && chown 65532:65532 /var/cache/pattern
COPY --from=build /out/pattern /usr/local/bin/pattern
# The example patterns and overlays, so `pattern validate --all -C /usr/share/pattern` works
# and a PatternSync with `source.path: /usr/share/pattern` can be tried without git.
COPY patterns /usr/share/pattern/patterns
COPY overlays /usr/share/pattern/overlays
USER 65532:65532
ENV XDG_CACHE_HOME=/var/cache
WORKDIR /home/pattern
EXPOSE 8080
ENTRYPOINT ["/usr/local/bin/pattern"]
CMD ["controller", "--health-addr=0.0.0.0:8081", "--log-format=json"]
