#!/usr/bin/env bash
# Checks the vcpkg manifest and overlay port without vcpkg: both JSON files parse, carry the
# required keys and the project's version, name the same dependencies and features, and the port's
# version>= are the minimums find_package asks for; the portfile itself runs (run_portfile.cmake:
# its vcpkg helpers as plain CMake steps, against this system's Boost, OpenSSL and hiredis),
# without and with the features redis and redis-tls, and installs exactly the headers plus the
# package files, with no lib/ or bin/ since the library is header-only; a find_package consumer
# (tests/consumers/find_package) then builds and runs against what it installed.
# Usage: tests/packaging/check_vcpkg_port.sh   (exit status 0 when everything holds)
# Environment: CXX; REDIS=ON|OFF whether to check the Redis features (default: whether pkg-config
# finds hiredis); JOBS (default 2).
set -euo pipefail

root=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
port="$root/ports/alation-auth"
work=$(mktemp -d "${TMPDIR:-/tmp}/alation-auth-vcpkg-check.XXXXXX")
trap 'rm -rf "$work"' EXIT

errors=0
fail() {
    echo "FAIL  $*"
    errors=$((errors + 1))
}

for json in "$root/vcpkg.json" "$port/vcpkg.json"; do
    python3 -m json.tool "$json" >/dev/null || fail "$json is not valid JSON"
done

project_version=$(sed -n 's/^project(alation-auth VERSION \([0-9.]*\).*/\1/p' "$root/CMakeLists.txt")
[[ -n $project_version ]] || fail "no project(alation-auth VERSION ...) in CMakeLists.txt"

python3 - "$root/vcpkg.json" "$port/vcpkg.json" "$project_version" "$root/cmake/AlationAuthDependencies.cmake" \
    <<'PY' || errors=$((errors + 1))
import json, re, sys

manifest_path, port_path, version, dependencies_cmake = sys.argv[1:]
required = {"boost-asio", "boost-beast", "boost-json", "boost-url", "openssl"}
problems = []

def names(deps):
    return {d if isinstance(d, str) else d["name"] for d in deps}

def specs(deps):
    """Each dependency but the host tools as (name, features), e.g. ("hiredis", ("ssl",))."""
    return {(d, ()) if isinstance(d, str) else (d["name"], tuple(sorted(d.get("features", []))))
            for d in deps if isinstance(d, str) or not d.get("host")}

def padded(v):
    parts = [int(p) for p in v.split(".")]
    return tuple(parts + [0] * (3 - len(parts)))

def host_names(deps):
    return {d["name"] for d in deps if isinstance(d, dict) and d.get("host")}

for path in (manifest_path, port_path):
    data = json.load(open(path))
    for key in ("name", "version", "description", "license", "dependencies"):
        if key not in data:
            problems.append(f"{path}: missing key '{key}'")
    if data.get("name") != "alation-auth":
        problems.append(f"{path}: name is {data.get('name')!r}, expected 'alation-auth'")
    if data.get("version") != version:
        problems.append(f"{path}: version is {data.get('version')!r}, project(VERSION) is {version!r}")
    if data.get("license") != "BSL-1.0":
        problems.append(f"{path}: license is {data.get('license')!r}, expected 'BSL-1.0' (LICENSE)")
    missing = required - names(data.get("dependencies", []))
    if missing:
        problems.append(f"{path}: dependencies lack {sorted(missing)}")

port = json.load(open(port_path))
manifest = json.load(open(manifest_path))
# The port's minimums are find_package's: version>= on every Boost port and on openssl.
minimums = dict(re.findall(r"find_package\((\w+) ([0-9.]+)", open(dependencies_cmake).read()))
for dep in port["dependencies"]:
    name = dep if isinstance(dep, str) else dep["name"]
    package = "Boost" if name.startswith("boost-") else "OpenSSL" if name == "openssl" else None
    if package is None:
        continue
    if package not in minimums:
        problems.append(f"{dependencies_cmake}: no find_package({package} <version>)")
    elif isinstance(dep, str) or padded(dep.get("version>=", "0")) != padded(minimums[package]):
        problems.append(f"{port_path}: {name} needs \"version>=\": \"{'.'.join(map(str, padded(minimums[package])))}\""
                        f" (find_package({package} {minimums[package]}))")
# vcpkg rejects version>= and overrides in a top-level manifest without a baseline; a port's
# baseline would be ignored (the top-level manifest's counts).
uses_versions = "overrides" in manifest or any(
    isinstance(d, dict) and "version>=" in d
    for deps in [manifest["dependencies"]] + [f.get("dependencies", []) for f in manifest.get("features", {}).values()]
    for d in deps)
if uses_versions and "builtin-baseline" not in manifest:
    problems.append(f"{manifest_path}: version>= or overrides without a builtin-baseline")
if "builtin-baseline" in port:
    problems.append(f"{port_path}: a port has no builtin-baseline (the top-level manifest's is used)")
# The manifest builds what the port installs: the same dependencies (versions aside) and features.
if {n for n, _ in specs(port["dependencies"])} != {n for n, _ in specs(manifest["dependencies"])}:
    problems.append(f"{manifest_path} and {port_path} name different dependencies")
port_features = port.get("features", {})
manifest_features = {k: v for k, v in manifest.get("features", {}).items() if k != "tests"}
for name in port_features.keys() | manifest_features.keys():
    if name not in port_features or name not in manifest_features or \
            specs(port_features[name].get("dependencies", [])) != specs(manifest_features[name].get("dependencies", [])):
        problems.append(f"feature '{name}' differs between {manifest_path} and {port_path}")
if specs(port_features.get("redis", {}).get("dependencies", [])) != {("hiredis", ())}:
    problems.append(f"{port_path}: feature 'redis' must depend on hiredis")
if specs(port_features.get("redis-tls", {}).get("dependencies", [])) != {("alation-auth", ("redis",)), ("hiredis", ("ssl",))}:
    problems.append(f"{port_path}: feature 'redis-tls' must depend on alation-auth[redis] and hiredis[ssl]")
missing_host = {"vcpkg-cmake", "vcpkg-cmake-config"} - host_names(port.get("dependencies", []))
if missing_host:
    problems.append(f"{port_path}: host dependencies lack {sorted(missing_host)}")
tests = manifest.get("features", {}).get("tests")
if tests is not None and "catch2" not in names(tests.get("dependencies", [])):
    problems.append(f"{manifest_path}: feature 'tests' must depend on catch2")

for p in problems:
    print("FAIL ", p)
sys.exit(1 if problems else 0)
PY

portfile="$port/portfile.cmake"
# Running the portfile would not fail if it left the tests, examples or benchmarks on (the install
# target would only build them too, slowly), so the options that turn them off are checked here.
for option in ALATION_AUTH_INSTALL=ON ALATION_AUTH_BUILD_TESTS=OFF ALATION_AUTH_BUILD_EXAMPLES=OFF \
              ALATION_AUTH_BUILD_BENCHMARKS=OFF; do
    grep -qF -- "-D$option" "$portfile" || fail "portfile.cmake does not pass -D$option"
done
[[ -f "$root/LICENSE" ]] || fail "LICENSE is missing"
grep -q 'find_package(alation-auth CONFIG REQUIRED)' "$port/usage" && grep -q 'alation::auth' "$port/usage" ||
    fail "usage does not show find_package(alation-auth CONFIG REQUIRED) and alation::auth"

share=share/alation-auth
package_files=(alation-authConfig.cmake alation-authConfigVersion.cmake alation-authTargets.cmake usage copyright)

# check_port NAME FEATURES PACKAGE_FILE...: runs the portfile with those vcpkg features (";"-separated)
# into $work/port-NAME/packages, and checks that it installs exactly the source headers and those
# files in share/alation-auth: vcpkg's post-build checks reject stray directories (lib/ in a
# header-only port, a debug tree, config files outside share/<port>).
check_port() {
    local name=$1 features=$2
    shift 2
    local dir="$work/port-$name"
    if ! cmake -DWORK_DIR="$dir" -DFEATURES="$features" -P "$root/tests/packaging/run_portfile.cmake" \
            >"$work/port-$name.log" 2>&1; then
        cat "$work/port-$name.log"
        fail "$name: the portfile failed (features: ${features:-none})"
        return
    fi
    local file expected actual
    expected=$( (cd "$root" && find include -type f) && for file in "$@"; do echo "$share/$file"; done)
    actual=$(cd "$dir/packages" && find . -type f | sed 's|^\./||')
    if ! diff <(sort <<<"$expected") <(sort <<<"$actual") >"$work/files-$name.diff"; then
        fail "$name: installed files differ from the headers plus $share/* (< expected, > installed):"
        cat "$work/files-$name.diff"
    fi
}

check_port default "" "${package_files[@]}"
consumer_prefix="$work/port-default/packages"
if [[ ${REDIS:-$(pkg-config --exists hiredis 2>/dev/null && echo ON || echo OFF)} == ON ]]; then
    redis_files=("${package_files[@]}" alation-authRedisTargets.cmake AlationAuthHiredis.cmake)
    check_port redis redis "${redis_files[@]}"
    check_port redis-tls redis-tls "${redis_files[@]}"
    consumer_prefix="$work/port-redis-tls/packages"
else
    echo "note: REDIS is OFF (by default when pkg-config does not find hiredis): features redis and redis-tls not checked"
fi

# The consumer against the fullest install: it links alation::auth_redis too when that is there.
# Its configure must not warn, on any CMake this project supports.
consumer=(cmake -S "$root/tests/consumers/find_package" -B "$work/consumer" -Wdev -DCMAKE_PREFIX_PATH="$consumer_prefix")
command -v ninja >/dev/null && consumer+=(-G Ninja)
command -v ccache >/dev/null && consumer+=(-DCMAKE_CXX_COMPILER_LAUNCHER=ccache)
if ! "${consumer[@]}" >"$work/consumer-configure.log" 2>&1 ||
    grep -q 'CMake [A-Za-z ]*Warning' "$work/consumer-configure.log"; then
    cat "$work/consumer-configure.log"
    fail "find_package consumer: configuring against the port's install failed or warned"
# CCACHE_BASEDIR: the temporary directory in the include paths would make every run a cache miss.
elif ! CCACHE_BASEDIR="$work" cmake --build "$work/consumer" -j "${JOBS:-2}" >"$work/consumer-build.log" 2>&1 ||
    ! timeout 60 "$work/consumer/consumer" >"$work/consumer-run.log" 2>&1; then
    cat "$work/consumer-build.log" "$work/consumer-run.log" 2>/dev/null
    fail "find_package consumer: building or running it against the port's install failed"
fi

if [[ $errors -ne 0 ]]; then
    echo "$errors vcpkg packaging check(s) failed"
    exit 1
fi
echo "vcpkg manifests and port agree with the install, and a find_package consumer builds against it"
