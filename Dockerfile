# syntax=docker/dockerfile:1
#
# GateAPI container image: a release build of `gate-api` with the Swift runtime linked
# statically, on Debian bookworm-slim, running as an unprivileged user.
#
#   docker build -t gate-api .
#   docker run --rm -e DATABASE_URL=<owner URL> -e REDIS_URL=… gate-api gate-api migrate
#   docker run --rm -p 8080:8080 -e DATABASE_URL=<gateapi_app URL> -e REDIS_URL=… gate-api
#
# Migrations run as the owner of the schema and create the least-privileged role
# gateapi_app (give it a password: ALTER ROLE gateapi_app PASSWORD '…'); `serve`
# refuses to start as a role that could alter or empty the audit log. With a single
# login, pass the owner URL to both and DATABASE_ROLE=gateapi_app to `serve`
# (docs/operations.md "Database roles").
#
# There is no ENTRYPOINT: the command is a whole command line (`gate-api serve` by
# default), so `docker run IMAGE gate-api migrate` and Render's preDeployCommand /
# dockerCommand mean the same thing whether or not a platform prepends an entrypoint.

ARG SWIFT_IMAGE=swift:6.2-bookworm
ARG RUNTIME_IMAGE=debian:bookworm-slim

# ---------------------------------------------------------------------------- build
FROM ${SWIFT_IMAGE} AS build

# hiredis (the CHiredis system-library target) and pkg-config to find it.
RUN export DEBIAN_FRONTEND=noninteractive \
    && apt-get update -q \
    && apt-get install -y -q --no-install-recommends libhiredis-dev pkg-config \
    && rm -rf /var/lib/apt/lists/*

WORKDIR /build

# Dependencies first: this layer is rebuilt only when the manifest changes.
# (Package.resolve[d] copies Package.resolved when the checkout has one.)
COPY Package.swift Package.resolve[d] ./
RUN swift package resolve

COPY Sources ./Sources
# Debug info is stripped (193 MB -> 121 MB); the symbol table stays, so a crash
# backtrace still names its functions.
RUN swift build -c release --product gate-api --static-swift-stdlib \
    && mkdir -p /staging \
    && cp "$(swift build -c release --show-bin-path)/gate-api" /staging/gate-api \
    && strip --strip-debug /staging/gate-api

# -------------------------------------------------------------------------- runtime
FROM ${RUNTIME_IMAGE}

# What `ldd gate-api` lists besides glibc: libhiredis0.14 (the Redis protocol
# library), libstdc++6, libgcc-s1 and zlib1g (the last three are in the slim image
# already; named so a change of base image cannot drop them). The Swift runtime,
# Foundation and ICU data are inside the binary (--static-swift-stdlib).
# ca-certificates: TLS to Gmail, Google OAuth, JWKS URLs, webhooks and rediss://.
# tzdata: Foundation's time zones.
RUN export DEBIAN_FRONTEND=noninteractive \
    && apt-get update -q \
    && apt-get install -y -q --no-install-recommends \
        libhiredis0.14 libstdc++6 libgcc-s1 zlib1g ca-certificates tzdata \
    && rm -rf /var/lib/apt/lists/* \
    && useradd --system --uid 10001 --user-group --home-dir /app --no-create-home --shell /usr/sbin/nologin gateapi

WORKDIR /app
COPY --from=build /staging/gate-api /usr/local/bin/gate-api
COPY --chmod=0755 scripts/render-run /usr/local/bin/render-run
COPY migrations ./migrations

ENV MIGRATIONS_DIR=/app/migrations \
    HOST=0.0.0.0 \
    PORT=8080 \
    LOG_FORMAT=json

USER gateapi:gateapi
EXPOSE 8080

# Liveness, as Render's healthCheckPath uses it (/health touches no dependency).
# Plain bash, since the slim image has no curl.
HEALTHCHECK --interval=30s --timeout=5s --start-period=20s --retries=3 \
    CMD ["bash", "-c", "exec 3<>/dev/tcp/127.0.0.1/${PORT:-8080} && printf 'GET /health HTTP/1.1\\r\\nHost: localhost\\r\\nConnection: close\\r\\n\\r\\n' >&3 && head -n 1 <&3 | grep -q ' 200 '"]

# SIGTERM drains in-flight requests and exits 0.
STOPSIGNAL SIGTERM
CMD ["gate-api", "serve"]
