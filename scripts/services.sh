#!/usr/bin/env bash
# services.sh makes sure the services the tests need are up: PostgreSQL,
# NATS JetStream and an S3 server (versitygw). It is idempotent: running it
# again reuses what is already running. The S3 settings are written to
# .cache/services/s3.env for `make test` and internal/testenv.
set -euo pipefail

root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
state="$root/.cache/services"
mkdir -p "$state"

# Serialize concurrent runs (two `make test` at once) so that only one
# starts a gateway.
exec 9>"$state/lock"
flock 9

S3_ACCESS_KEY="electrons-test"
S3_SECRET_KEY="electrons-test-secret"

log() { printf 'services: %s\n' "$*" >&2; }
die() { printf 'services: %s\n' "$*" >&2; exit 1; }

# wait_for TIMEOUT_SECONDS DESCRIPTION COMMAND... retries COMMAND until it
# succeeds or the deadline passes.
wait_for() {
	local timeout=$1 what=$2
	shift 2
	local deadline=$((SECONDS + timeout))
	until "$@" >/dev/null 2>&1; do
		if ((SECONDS >= deadline)); then
			die "$what not ready after ${timeout}s"
		fi
		sleep 0.2
	done
}

tcp_open() { (exec 3<>"/dev/tcp/$1/$2") 2>/dev/null; }

# --- PostgreSQL -------------------------------------------------------------
pg_ready() { pg_isready -q -h 127.0.0.1 -p 5432 -U postgres -d postgres; }

if pg_ready; then
	log "postgres: running"
else
	log "postgres: starting"
	# 9>&-: a daemon must not inherit (and so hold forever) our lock.
	pg_ctlcluster --skip-systemctl-redirect "$(ls /etc/postgresql | head -n1)" main start 9>&- || true
	wait_for 60 postgres pg_ready
	log "postgres: ready"
fi

# --- NATS JetStream ---------------------------------------------------------
if tcp_open 127.0.0.1 4222; then
	log "nats: running"
else
	log "nats: starting"
	mkdir -p /var/lib/nats-server
	nats_start() {
		# Repeated until the port opens: --oknodo makes it a no-op while an
		# old server is still shutting down, and starts one once it is gone.
		start-stop-daemon --start --oknodo --quiet --background --exec /usr/sbin/nats-server -- \
			-a 127.0.0.1 -p 4222 -js -sd /var/lib/nats-server -l /var/log/nats-server.log 9>&- || true
		tcp_open 127.0.0.1 4222
	}
	wait_for 30 nats nats_start
	log "nats: ready"
fi

# --- S3 (versitygw) ---------------------------------------------------------
command -v go >/dev/null || PATH="$PATH:/usr/local/go/bin"
gobin="$(go env GOBIN)"
[[ -n "$gobin" ]] || gobin="$(go env GOPATH)/bin"
vgw="$gobin/versitygw"
if [[ ! -x "$vgw" ]]; then
	log "versitygw: installing"
	go install github.com/versity/versitygw/cmd/versitygw@v1.8.0
fi

s3_ready() { tcp_open 127.0.0.1 "$1"; }

write_env() {
	local tmp="$state/s3.env.tmp.$$"
	cat >"$tmp" <<ENV
ELECTRONS_TEST_S3_ENDPOINT=127.0.0.1:$1
ELECTRONS_TEST_S3_ACCESS_KEY=$S3_ACCESS_KEY
ELECTRONS_TEST_S3_SECRET_KEY=$S3_SECRET_KEY
ENV
	mv "$tmp" "$state/s3.env"
}

pid="$(cat "$state/versitygw.pid" 2>/dev/null || true)"
port="$(cat "$state/versitygw.port" 2>/dev/null || true)"
if [[ -n "$pid" && -n "$port" ]] && kill -0 "$pid" 2>/dev/null &&
	tr '\0' ' ' <"/proc/$pid/cmdline" 2>/dev/null | grep -q versitygw && s3_ready "$port" &&
	[[ -d "$(cat "$state/versitygw.dir" 2>/dev/null)" ]]; then
	log "versitygw: running (pid $pid, port $port)"
	write_env "$port"
	exit 0
fi

# The previous gateway is gone (or lost its directory): stop it if it is ours,
# and remove its backend directory.
if [[ -n "$pid" ]] && tr '\0' ' ' <"/proc/$pid/cmdline" 2>/dev/null | grep -q versitygw; then
	kill "$pid" 2>/dev/null || true
fi
old="$(cat "$state/versitygw.dir" 2>/dev/null || true)"
if [[ "$old" == */electrons-s3.* && -d "$old" ]]; then
	rm -rf -- "$old"
fi
dir="$(mktemp -d "${TMPDIR:-/tmp}/electrons-s3.XXXXXX")"
echo "$dir" >"$state/versitygw.dir"
for attempt in 1 2 3 4 5; do
	port=$((20000 + RANDOM % 40000))
	tcp_open 127.0.0.1 "$port" && continue
	log "versitygw: starting on 127.0.0.1:$port (backend $dir)"
	setsid nohup "$vgw" --port "127.0.0.1:$port" \
		--access "$S3_ACCESS_KEY" --secret "$S3_SECRET_KEY" --quiet \
		posix "$dir" >"$state/versitygw.log" 2>&1 </dev/null 9>&- &
	pid=$!
	deadline=$((SECONDS + 30))
	until s3_ready "$port"; do
		if ! kill -0 "$pid" 2>/dev/null || ((SECONDS >= deadline)); then
			kill "$pid" 2>/dev/null || true
			pid=""
			break
		fi
		sleep 0.2
	done
	if [[ -n "$pid" ]]; then
		echo "$pid" >"$state/versitygw.pid"
		echo "$port" >"$state/versitygw.port"
		write_env "$port"
		log "versitygw: ready (pid $pid)"
		exit 0
	fi
	log "versitygw: attempt $attempt failed: $(tail -n 3 "$state/versitygw.log" 2>/dev/null)"
done
die "versitygw did not start; see $state/versitygw.log"
