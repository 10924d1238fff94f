#!/usr/bin/env bash
# End-to-end test of alation-token against the fake Alation server.
# Usage: test_cli.sh PATH/TO/alation-token PATH/TO/fake_alation_server
set -euo pipefail

cli=$1
server=$2
work=$(mktemp -d)
server_pids=()
cleanup() {
    for pid in "${server_pids[@]}"; do
        kill "$pid" 2>/dev/null || true
        wait "$pid" 2>/dev/null || true
    done
    rm -rf "$work"
}
trap cleanup EXIT

failures=0
fail() {
    echo "FAIL: $*" >&2
    failures=$((failures + 1))
}

# Starts a fake server on a free port with the given extra flags; its stdout goes to $work/$1.out.
start_server() {
    local name=$1
    shift
    # A free port: bind to 0, read the port, release it for the server.
    local port
    port=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
    "$server" --port "$port" --user alice:s3cret-pass "$@" >"$work/$name.out" 2>"$work/$name.err" &
    server_pids+=($!)
    # The URL, and with --tls the CA file's path.
    local lines=1
    [[ " $* " == *" --tls "* ]] && lines=2
    for _ in $(seq 100); do
        [[ $(wc -l <"$work/$name.out") -ge $lines ]] && return 0
        kill -0 "${server_pids[-1]}" 2>/dev/null || break
        sleep 0.1
    done
    cat "$work/$name.err" >&2
    echo "the fake server ($name) did not start" >&2
    exit 1
}
start_server plain
url=$(sed -n 1p "$work/plain.out")
[[ $url == http://127.0.0.1:* ]] || { echo "unexpected server URL '$url'" >&2; exit 1; }

# Runs the CLI with no secrets in the environment but those given; records status, stdout, stderr.
run() {
    set +e
    env -u ALATION_USERNAME -u ALATION_PASSWORD -u ALATION_REFRESH_TOKEN -u ALATION_ACCESS_TOKEN \
        -u ALATION_URL -u ALATION_USER_ID -u ALATION_CLIENT_ID -u ALATION_CLIENT_SECRET "$@" >"$work/out" 2>"$work/err" </dev/null
    status=$?
    set -e
}
# Runs Python over the JSON on stdout; the expression must be true. `j` is the object.
check_json() {
    local what=$1 expr=$2
    if ! python3 -c '
import json, re, sys
j = json.load(open(sys.argv[1]))
assert isinstance(j, dict), "not an object"
ok = eval(sys.argv[2], {"j": j, "re": re})
sys.exit(0 if ok else 1)' "$work/out" "$expr" 2>>"$work/py.err"; then
        fail "$what: $expr is false for $(cat "$work/out")"
    fi
}
expect_status() {
    local what=$1 expected=$2
    if [[ $status != "$expected" ]]; then
        fail "$what: exit status $status, expected $expected; stderr: $(cat "$work/err")"
    fi
}
expect_stderr() {
    local what=$1 text=$2
    grep -qF -- "$text" "$work/err" || fail "$what: stderr lacks '$text': $(cat "$work/err")"
}
expect_not_in_output() {
    local what=$1 secret=$2
    if grep -qF -- "$secret" "$work/out" "$work/err"; then fail "$what: the secret appears in the output"; fi
}
field() { python3 -c 'import json, sys; print(json.load(open(sys.argv[1]))[sys.argv[2]])' "$work/out" "$1"; }

# A Python test that field $1 is an RFC 3339 timestamp.
ts() { echo "re.fullmatch(r'\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(\.\d+)?(Z|[+-]\d\d:\d\d)', j['$1'])"; }

# --- help and usage errors -------------------------------------------------------------------
run "$cli" --help
expect_status "--help" 0
grep -qF "create-refresh-token" "$work/out" || fail "--help does not list the commands"
for cmd in create-refresh-token validate-refresh-token regenerate-refresh-token create-access-token \
    validate-access-token revoke-access-tokens create-oauth-token introspect-oauth-token; do
    run "$cli" "$cmd" --help
    expect_status "$cmd --help" 0
    grep -qF "Usage: alation-token $cmd" "$work/out" || fail "$cmd --help: $(cat "$work/out")"
done
run "$cli"
expect_status "no command" 2
run "$cli" frobnicate --url "$url"
expect_status "unknown command" 2
run ALATION_REFRESH_TOKEN=rt-1 "$cli" validate-refresh-token --url "$url"
expect_status "missing --user-id" 2
expect_stderr "missing --user-id" "--user-id"
run "$cli" validate-refresh-token --url "$url" --user-id nobody
expect_status "bad --user-id" 2
run "$cli" create-access-token --url "$url" --user-id 1 --timeout -3
expect_status "bad --timeout" 2

# Secrets on the command line are refused before anything is sent, and not echoed back.
run "$cli" create-refresh-token --url "$url" --name n --password=argv-secret-123
expect_status "--password on argv" 2
expect_stderr "--password on argv" "ALATION_PASSWORD"
expect_not_in_output "--password on argv" "argv-secret-123"
run "$cli" validate-refresh-token --url "$url" --user-id 1 --refresh-token argv-secret-456
expect_status "--refresh-token on argv" 2
expect_stderr "--refresh-token on argv" "ALATION_REFRESH_TOKEN"
expect_not_in_output "--refresh-token on argv" "argv-secret-456"
run "$cli" validate-access-token --url "$url" --user-id 1 argv-secret-789
expect_status "positional secret" 2
expect_not_in_output "positional secret" "argv-secret-789"

run "$cli" create-oauth-token --url "$url" --client-secret=argv-secret-321
expect_status "--client-secret on argv" 2
expect_stderr "--client-secret on argv" "ALATION_CLIENT_SECRET"
expect_not_in_output "--client-secret on argv" "argv-secret-321"
run ALATION_CLIENT_ID=svc ALATION_CLIENT_SECRET=x "$cli" create-oauth-token --url "$url" --client-auth digest
expect_status "bad --client-auth" 2
expect_stderr "bad --client-auth" "basic or post"
run ALATION_CLIENT_ID=svc setsid "$cli" create-oauth-token --url "$url"
expect_status "no client secret, no terminal" 2
expect_stderr "no client secret, no terminal" "ALATION_CLIENT_SECRET is not set"

# No secret in the environment and no terminal to ask on (setsid: no controlling terminal).
run setsid "$cli" create-access-token --url "$url" --user-id 1
expect_status "no secret, no terminal" 2
expect_stderr "no secret, no terminal" "ALATION_REFRESH_TOKEN is not set"

# Asked on the terminal: the username echoed, the password not.
python3 "$(dirname "$0")/check_prompt.py" "$cli" "$url" alice s3cret-pass || fail "terminal prompt"

# --- the token lifecycle ---------------------------------------------------------------------
run ALATION_USERNAME=alice ALATION_PASSWORD=s3cret-pass "$cli" create-refresh-token --url "$url" --name cli-redacted
expect_status "create-refresh-token" 0
check_json "create-refresh-token" "j['refresh_token'] == '<redacted>'"
check_json "create-refresh-token" "j['name'] == 'cli-redacted' and j['token_status'] == 'active'"
check_json "create-refresh-token" "isinstance(j['user_id'], int) and j['user_id'] > 0"
check_json "create-refresh-token" "$(ts created_at) and $(ts token_expires_at)"
check_json "create-refresh-token" "j['token_expires_at'] > j['created_at']"
expect_not_in_output "create-refresh-token" "s3cret-pass"

# The environment may carry the URL instead of --url.
run ALATION_URL="$url" ALATION_USERNAME=alice ALATION_PASSWORD=s3cret-pass \
    "$cli" create-refresh-token --name cli-test --reveal
expect_status "create-refresh-token --reveal" 0
check_json "create-refresh-token --reveal" "len(j['refresh_token']) >= 16 and j['refresh_token'] != '<redacted>'"
refresh_token=$(field refresh_token)
user_id=$(field user_id)

run ALATION_REFRESH_TOKEN="$refresh_token" "$cli" validate-refresh-token --url "$url" --user-id "$user_id"
expect_status "validate-refresh-token" 0
check_json "validate-refresh-token" "j['refresh_token'] == '<redacted>' and j['name'] == 'cli-test'"
check_json "validate-refresh-token" "j['user_id'] == $user_id and j['token_status'] == 'active'"
check_json "validate-refresh-token" "'last_used_at' in j"
expect_not_in_output "validate-refresh-token" "$refresh_token"

run ALATION_REFRESH_TOKEN="$refresh_token" "$cli" create-access-token --url "$url" --user-id "$user_id"
expect_status "create-access-token" 0
check_json "create-access-token" "j['api_access_token'] == '<redacted>' and j['user_id'] == $user_id"
check_json "create-access-token" "$(ts created_at) and $(ts token_expires_at) and j['token_status'] == 'active'"
expect_not_in_output "create-access-token" "$refresh_token"

run ALATION_REFRESH_TOKEN="$refresh_token" "$cli" create-access-token --url "$url" --user-id "$user_id" --reveal
expect_status "create-access-token --reveal" 0
access_token=$(field api_access_token)
[[ -n $access_token && $access_token != "<redacted>" ]] || fail "create-access-token --reveal: no token"

# The user id from the environment.
run ALATION_USER_ID="$user_id" ALATION_ACCESS_TOKEN="$access_token" "$cli" validate-access-token --url "$url"
expect_status "validate-access-token" 0
check_json "validate-access-token" "j['api_access_token'] == '<redacted>' and j['token_status'] == 'active'"
expect_not_in_output "validate-access-token" "$access_token"

run ALATION_REFRESH_TOKEN="$refresh_token" "$cli" revoke-access-tokens --url "$url" --user-id "$user_id"
expect_status "revoke-access-tokens" 0
check_json "revoke-access-tokens" "'cli-test' in j['detail'] and j['detail'].startswith('Revoked')"

run ALATION_ACCESS_TOKEN="$access_token" "$cli" validate-access-token --url "$url" --user-id "$user_id"
expect_status "validate-access-token after revoke" 1
expect_stderr "validate-access-token after revoke" "expired or revoked"
expect_not_in_output "validate-access-token after revoke" "$access_token"

run ALATION_REFRESH_TOKEN="$refresh_token" "$cli" regenerate-refresh-token --url "$url" --user-id "$user_id" --reveal
expect_status "regenerate-refresh-token" 0
check_json "regenerate-refresh-token" "j['refresh_token'] not in ('<redacted>', '$refresh_token')"
check_json "regenerate-refresh-token" "j['name'] == 'cli-test' and j['token_status'] == 'active'"
new_refresh_token=$(field refresh_token)

# The replaced token is revoked: the server's words reach stderr, the token does not.
run ALATION_REFRESH_TOKEN="$refresh_token" "$cli" validate-refresh-token --url "$url" --user-id "$user_id"
expect_status "validate the regenerated-away token" 1
expect_stderr "validate the regenerated-away token" "the refresh token is expired or revoked"
expect_stderr "validate the regenerated-away token" "HTTP status: 401"
expect_stderr "validate the regenerated-away token" "server detail: Refresh token provided is expired or revoked."
expect_stderr "validate the regenerated-away token" "server code: 401000"
expect_not_in_output "validate the regenerated-away token" "$refresh_token"
[[ ! -s $work/out ]] || fail "a failure printed on stdout: $(cat "$work/out")"

run ALATION_REFRESH_TOKEN="$new_refresh_token" "$cli" validate-refresh-token --url "$url" --user-id "$user_id"
expect_status "validate the new refresh token" 0

# A wrong password: exit 1, the server's detail on stderr, the password nowhere.
run ALATION_USERNAME=alice ALATION_PASSWORD=wrong-pass-42 "$cli" create-refresh-token --url "$url" --name cli-bad
expect_status "wrong password" 1
expect_stderr "wrong password" "invalid username or password"
expect_stderr "wrong password" "HTTP status: 401"
expect_stderr "wrong password" "server detail: Invalid username or password."
expect_not_in_output "wrong password" "wrong-pass-42"

# A plain-http URL to a host that is not loopback is refused unless allowed.
run ALATION_REFRESH_TOKEN=rt-1 "$cli" validate-refresh-token --url http://alation.invalid --user-id 1
expect_status "insecure URL" 2
expect_stderr "insecure URL" "not loopback"

# --- OAuth client credentials ----------------------------------------------------------------
start_server oauth --oauth-client svc:cli-Client-S3cret:7200
oauth_url=$(sed -n 1p "$work/oauth.out")
for how in basic post; do
    run ALATION_CLIENT_ID=svc ALATION_CLIENT_SECRET=cli-Client-S3cret "$cli" create-oauth-token --url "$oauth_url" \
        --client-auth "$how"
    expect_status "create-oauth-token ($how)" 0
    check_json "create-oauth-token ($how)" "j['access_token'] == '<redacted>' and j['expires_in'] == 7200"
    check_json "create-oauth-token ($how)" "j['scope'] == 'api' and $(ts created_at) and $(ts expires_at)"
    expect_not_in_output "create-oauth-token ($how)" "cli-Client-S3cret"
done
run ALATION_CLIENT_ID=svc ALATION_CLIENT_SECRET=cli-Client-S3cret "$cli" create-oauth-token --url "$oauth_url" --reveal
expect_status "create-oauth-token --reveal" 0
check_json "create-oauth-token --reveal" "j['access_token'].count('.') == 2"
jwt=$(field access_token)

run ALATION_CLIENT_ID=svc ALATION_CLIENT_SECRET=cli-Client-S3cret ALATION_ACCESS_TOKEN="$jwt" \
    "$cli" introspect-oauth-token --url "$oauth_url"
expect_status "introspect-oauth-token" 0
check_json "introspect-oauth-token" "j['active'] is True and j['client_id'] == 'svc' and $(ts expires_at)"
expect_not_in_output "introspect-oauth-token" "$jwt"
run ALATION_CLIENT_ID=svc ALATION_CLIENT_SECRET=cli-Client-S3cret ALATION_ACCESS_TOKEN=not.a.jwt \
    "$cli" introspect-oauth-token --url "$oauth_url"
expect_status "introspect an unknown token" 0
check_json "introspect an unknown token" "j == {'active': False}"

# A wrong secret: exit 1, OAuth's error on stderr, the secret nowhere.
run ALATION_CLIENT_ID=svc ALATION_CLIENT_SECRET=wrong-Secret-77 "$cli" create-oauth-token --url "$oauth_url"
expect_status "wrong client secret" 1
expect_stderr "wrong client secret" "invalid OAuth client id or secret"
expect_stderr "wrong client secret" "HTTP status: 401"
expect_stderr "wrong client secret" "server code: invalid_client"
expect_not_in_output "wrong client secret" "wrong-Secret-77"

# TLS: trusted through --ca-file, refused without it.
start_server tls --tls
tls_url=$(sed -n 1p "$work/tls.out")
ca_file=$(sed -n 2p "$work/tls.out")
[[ $tls_url == https://* && -s $ca_file ]] || fail "TLS server: '$tls_url' '$ca_file'"
run ALATION_USERNAME=alice ALATION_PASSWORD=s3cret-pass "$cli" create-refresh-token --url "$tls_url" --name tls \
    --ca-file "$ca_file"
expect_status "TLS with --ca-file" 0
check_json "TLS with --ca-file" "j['name'] == 'tls' and j['token_status'] == 'active'"
run ALATION_USERNAME=alice ALATION_PASSWORD=s3cret-pass "$cli" create-refresh-token --url "$tls_url" --name tls
expect_status "TLS without the CA" 1
expect_stderr "TLS without the CA" "certificate verify failed"

# --- through a proxy: Debian's tinyproxy, with BasicAuth, on a free port -------------------------
command -v tinyproxy >/dev/null || { echo "tinyproxy is not installed: run scripts/install-deps.sh" >&2; exit 1; }
proxy_port=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
cat >"$work/tinyproxy.conf" <<CONF
Listen 127.0.0.1
Port $proxy_port
Allow 127.0.0.1
LogLevel Connect
BasicAuth corp corp-proxy-pass
CONF
tinyproxy -d -c "$work/tinyproxy.conf" >"$work/tinyproxy.log" 2>&1 &
server_pids+=($!)
for _ in $(seq 100); do
    python3 -c 'import socket, sys; socket.create_connection(("127.0.0.1", int(sys.argv[1])))' "$proxy_port" \
        2>/dev/null && break
    sleep 0.1
done
connects() { grep -c "): CONNECT " "$work/tinyproxy.log" || true; }

# The proxy from HTTPS_PROXY, its password there too: the call goes through one CONNECT.
run HTTPS_PROXY="http://corp:corp-proxy-pass@127.0.0.1:$proxy_port" NO_PROXY= ALATION_USERNAME=alice \
    ALATION_PASSWORD=s3cret-pass "$cli" create-refresh-token --url "$tls_url" --name proxied --ca-file "$ca_file"
expect_status "through HTTPS_PROXY" 0
check_json "through HTTPS_PROXY" "j['name'] == 'proxied' and j['token_status'] == 'active'"
[[ $(connects) == 1 ]] || fail "through HTTPS_PROXY: $(connects) CONNECTs in the proxy's log"
expect_not_in_output "through HTTPS_PROXY" "corp-proxy-pass"

# --proxy without credentials: the proxy refuses (407), which the CLI names; no password shown.
run ALATION_USERNAME=alice ALATION_PASSWORD=s3cret-pass "$cli" create-refresh-token --url "$tls_url" --name p \
    --ca-file "$ca_file" --proxy "http://127.0.0.1:$proxy_port"
expect_status "--proxy without credentials" 1
expect_stderr "--proxy without credentials" "HTTP status: 407"
[[ $(connects) == 2 ]] || fail "--proxy without credentials: $(connects) CONNECTs (a 407 is never retried)"

# --proxy wins over HTTPS_PROXY; --no-proxy ignores it (here: a port where nothing listens).
run HTTPS_PROXY="http://corp:corp-proxy-pass@127.0.0.1:1" NO_PROXY= ALATION_USERNAME=alice \
    ALATION_PASSWORD=s3cret-pass "$cli" create-refresh-token --url "$tls_url" --name direct --ca-file "$ca_file" \
    --no-proxy
expect_status "--no-proxy" 0
run HTTPS_PROXY="http://127.0.0.1:1" NO_PROXY= ALATION_USERNAME=alice ALATION_PASSWORD=s3cret-pass \
    "$cli" create-refresh-token --url "$tls_url" --name p --ca-file "$ca_file" --timeout 10
expect_status "an unreachable HTTPS_PROXY" 1
run "$cli" create-refresh-token --url "$tls_url" --name p --proxy "http://127.0.0.1:$proxy_port" --no-proxy
expect_status "--proxy with --no-proxy" 2

# A proxy password on the command line is refused, and not echoed.
run "$cli" create-refresh-token --url "$tls_url" --name p --proxy "http://corp:argv-proxy-pass@127.0.0.1:$proxy_port"
expect_status "--proxy with a password" 2
expect_stderr "--proxy with a password" "HTTPS_PROXY"
expect_not_in_output "--proxy with a password" "argv-proxy-pass"
run "$cli" create-refresh-token --url "$tls_url" --name p --proxy "socks5://127.0.0.1:$proxy_port"
expect_status "--proxy socks5://" 2

if ((failures > 0)); then
    echo "$failures check(s) failed" >&2
    exit 1
fi
echo "all alation-token checks passed"
