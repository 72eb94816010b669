# Shared by scripts/dev, scripts/test, scripts/contract-test and scripts/browser-test:
# install what is missing, then start and stop project-owned Postgres and Redis servers
# on loopback. Sourced, not run.

log() { printf '==> %s\n' "$*" >&2; }
die() { printf 'error: %s\n' "$*" >&2; exit 1; }

is_root() { [ "$(id -u)" -eq 0 ]; }

# A machine-wide package mirror owned by root (as on the machines this project is
# built on) is "dubious ownership" to a normal user's git, so SwiftPM could not
# fetch from it. git honours safe.directory only from global (or system) config, so
# normal users get a global config that includes their own and trusts the mirror.
if ! is_root && [ -d /opt/swift-packages ]; then
    gitconfig="${TMPDIR:-/tmp}/gateapi-gitconfig-$(id -u)"
    printf '[include]\n\tpath = %s/.gitconfig\n[safe]\n\tdirectory = *\n' "$HOME" > "$gitconfig"
    export GIT_CONFIG_GLOBAL="$gitconfig"
fi

pg_bindir() {
    local dir
    dir=$(ls -d /usr/lib/postgresql/*/bin 2>/dev/null | sort -V | tail -n 1)
    [ -n "$dir" ] && [ -x "$dir/pg_ctl" ] && printf '%s\n' "$dir"
}

# Installs Debian packages for whatever is missing (apt_install, below).
ensure_packages() {
    local missing=()
    [ -n "$(pg_bindir)" ] || missing+=(postgresql)
    command -v psql >/dev/null || missing+=(postgresql-client)
    command -v redis-server >/dev/null || missing+=(redis-server)
    [ -f /usr/include/hiredis/hiredis.h ] || missing+=(libhiredis-dev)
    command -v pkg-config >/dev/null || missing+=(pkg-config)
    command -v openssl >/dev/null || missing+=(openssl)
    # The tests mint tokens with PyJWT, as agents' tooling does.
    /usr/bin/python3 -c 'import jwt, cryptography' 2>/dev/null || missing+=(python3-jwt python3-cryptography)
    # scripts/contract-test makes a virtualenv for schemathesis.
    /usr/bin/python3 -c 'import venv, ensurepip' 2>/dev/null || missing+=(python3-venv)
    apt_install "${missing[@]}"
}

# scripts/browser-test drives the reviewer console in headless Chromium through Debian's
# chromedriver (Selenium Manager cannot download a browser or driver of its own here).
ensure_browser() {
    local missing=()
    [ -x /usr/bin/chromium ] || missing+=(chromium)
    [ -x /usr/bin/chromedriver ] || missing+=(chromium-driver)
    apt_install "${missing[@]}"
}

# apt_install [PACKAGE...]: installs the Debian packages named (none: nothing to do), as
# root or through sudo. Service auto-start is blocked during the install so no
# system-wide postgres or redis is left running.
apt_install() {
    local missing=("$@")
    [ ${#missing[@]} -eq 0 ] && return 0

    local sudo=()
    if ! is_root; then
        command -v sudo >/dev/null || die "missing packages: ${missing[*]}; install them as root: apt-get install ${missing[*]}"
        sudo=(sudo)
    fi
    log "installing ${missing[*]}"
    local made_policy=0
    if [ ! -e /usr/sbin/policy-rc.d ]; then
        printf '#!/bin/sh\nexit 101\n' | "${sudo[@]}" tee /usr/sbin/policy-rc.d >/dev/null
        "${sudo[@]}" chmod 755 /usr/sbin/policy-rc.d
        made_policy=1
    fi
    local status=0
    { "${sudo[@]}" env DEBIAN_FRONTEND=noninteractive apt-get update -q &&
      "${sudo[@]}" env DEBIAN_FRONTEND=noninteractive apt-get install -y -q --no-install-recommends "${missing[@]}"; } >&2 || status=$?
    [ $made_policy -eq 1 ] && "${sudo[@]}" rm -f /usr/sbin/policy-rc.d
    [ $status -eq 0 ] || die "apt-get install ${missing[*]} failed"
}

# free_port [TAKEN...]: a TCP port on 127.0.0.1 that nothing is listening on and that
# is none of TAKEN (ports picked for servers not started yet), below the ephemeral
# range (32768+) so that no outgoing connection can be holding it.
free_port() {
    local port
    for _ in $(seq 1 200); do
        port=$(( 20000 + RANDOM % 12768 ))
        [[ " $* " == *" $port "* ]] && continue
        if ! (exec 3<>"/dev/tcp/127.0.0.1/$port") 2>/dev/null; then
            printf '%s\n' "$port"
            return 0
        fi
    done
    die "no free port found"
}

# Postgres refuses to run as root, so as root the cluster belongs to `postgres`.
as_pg_owner() {
    if is_root; then
        runuser -u postgres -- "$@"
    else
        "$@"
    fi
}

# True when the cluster owner can create files in $1 (a parent dir may be closed to it).
pg_owner_can_use() {
    local dir=$1
    mkdir -p "$dir"
    if is_root; then
        chown postgres:postgres "$dir"
        runuser -u postgres -- test -w "$dir" -a -x "$dir"
    fi
}

# start_postgres DIR PORT [fast]: initdb on first use (superuser `gate`, trust on
# loopback only), then start on 127.0.0.1:PORT. `fast` trades durability for speed
# (throwaway test clusters only).
start_postgres() {
    local dir=$1 port=$2 mode=${3:-}
    local bin
    bin=$(pg_bindir) || die "PostgreSQL server binaries not found"
    pg_owner_can_use "$dir" || die "the postgres user cannot write $dir"
    if [ ! -f "$dir/PG_VERSION" ]; then
        as_pg_owner "$bin/initdb" -D "$dir" -U gate --auth=trust -E UTF8 --locale=C.UTF-8 >"$dir.initdb.log" 2>&1 ||
            { cat "$dir.initdb.log" >&2; die "initdb failed"; }
    fi
    if as_pg_owner "$bin/pg_ctl" -D "$dir" status >/dev/null 2>&1; then
        return 0
    fi
    local opts="-p $port -k $dir -c listen_addresses=127.0.0.1"
    [ "$mode" = fast ] && opts="$opts -c fsync=off -c synchronous_commit=off -c full_page_writes=off -c max_connections=500"
    as_pg_owner "$bin/pg_ctl" -D "$dir" -o "$opts" -l "$dir/server.log" -w -t 60 start >/dev/null ||
        { tail -n 20 "$dir/server.log" >&2; die "postgres did not start"; }
}

stop_postgres() {
    local dir=$1 bin
    bin=$(pg_bindir) || return 0
    [ -f "$dir/postmaster.pid" ] || return 0
    as_pg_owner "$bin/pg_ctl" -D "$dir" -m fast -w -t 30 stop >/dev/null 2>&1 || true
}

# start_redis DIR PORT: a Redis without persistence, daemonized with a pidfile in DIR.
start_redis() {
    local dir=$1 port=$2
    mkdir -p "$dir"
    if [ -f "$dir/redis.pid" ] && kill -0 "$(cat "$dir/redis.pid")" 2>/dev/null; then
        return 0
    fi
    redis-server --port "$port" --bind 127.0.0.1 --save '' --appendonly no \
        --daemonize yes --pidfile "$dir/redis.pid" --logfile "$dir/redis.log" --dir "$dir" >/dev/null ||
        die "redis did not start"
    for _ in $(seq 1 50); do
        redis-cli -h 127.0.0.1 -p "$port" ping >/dev/null 2>&1 && return 0
        sleep 0.1
    done
    die "redis did not answer on port $port"
}

stop_redis() {
    local dir=$1 pid
    [ -f "$dir/redis.pid" ] || return 0
    pid=$(cat "$dir/redis.pid")
    kill "$pid" 2>/dev/null || return 0
    for _ in $(seq 1 50); do
        kill -0 "$pid" 2>/dev/null || return 0
        sleep 0.1
    done
    kill -9 "$pid" 2>/dev/null || true
}
