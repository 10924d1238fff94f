#!/usr/bin/env bash
# Checks the vcpkg manifest and overlay port without vcpkg: both JSON files parse and carry the
# required keys and the project's version; the portfile configures with the options and fixes up
# the config path that a real `cmake --install` (run here into a temporary prefix with the
# portfile's own options, without and with the feature redis) produces; the installed files are
# exactly the headers plus the package files, with no lib/ or bin/ since the library is
# header-only.
# Usage: tests/packaging/check_vcpkg_port.sh   (exit status 0 when everything holds)
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

python3 - "$root/vcpkg.json" "$port/vcpkg.json" "$project_version" <<'PY' || errors=$((errors + 1))
import json, sys

manifest_path, port_path, version = sys.argv[1:]
required = {"boost-asio", "boost-beast", "boost-json", "boost-url", "openssl"}
problems = []

def names(deps):
    return {d if isinstance(d, str) else d["name"] for d in deps}

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
missing_host = {"vcpkg-cmake", "vcpkg-cmake-config"} - host_names(port.get("dependencies", []))
if missing_host:
    problems.append(f"{port_path}: host dependencies lack {sorted(missing_host)}")
manifest = json.load(open(manifest_path))
tests = manifest.get("features", {}).get("tests")
if tests is not None and "catch2" not in names(tests.get("dependencies", [])):
    problems.append(f"{manifest_path}: feature 'tests' must depend on catch2")

for p in problems:
    print("FAIL ", p)
sys.exit(1 if problems else 0)
PY

portfile="$port/portfile.cmake"
# The portfile's own configure options, so the install below is the one vcpkg would run.
mapfile -t options < <(grep -oE -- '-DALATION_AUTH_[A-Z_]+=[A-Z]+' "$portfile")
for option in ALATION_AUTH_INSTALL=ON ALATION_AUTH_BUILD_TESTS=OFF ALATION_AUTH_BUILD_EXAMPLES=OFF \
              ALATION_AUTH_BUILD_BENCHMARKS=OFF; do
    [[ " ${options[*]} " == *" -D$option "* ]] || fail "portfile.cmake does not pass -D$option"
done
# Feature "redis" maps to ALATION_AUTH_WITH_REDIS (vcpkg passes =OFF without it, never AUTO).
grep -q 'vcpkg_check_features(OUT_FEATURE_OPTIONS FEATURE_OPTIONS FEATURES redis ALATION_AUTH_WITH_REDIS)' \
    "$portfile" && grep -q '${FEATURE_OPTIONS}' "$portfile" ||
    fail "portfile.cmake does not map the feature redis to ALATION_AUTH_WITH_REDIS"
grep -q '^set(VCPKG_BUILD_TYPE release)' "$portfile" || fail "portfile.cmake: header-only ports build release only"
grep -q 'vcpkg_install_copyright(FILE_LIST "${SOURCE_PATH}/LICENSE")' "$portfile" ||
    fail "portfile.cmake does not install LICENSE as the copyright"
[[ -f "$root/LICENSE" ]] || fail "LICENSE is missing"
grep -q 'find_package(alation-auth CONFIG REQUIRED)' "$port/usage" && grep -q 'alation::auth' "$port/usage" ||
    fail "usage does not show find_package(alation-auth CONFIG REQUIRED) and alation::auth"

fixup=$(grep -oE 'vcpkg_cmake_config_fixup\([^)]*\)' "$portfile" || true)
package_name=$(sed -nE 's/.*PACKAGE_NAME ([^ )]+).*/\1/p' <<<"$fixup")
config_path=$(sed -nE 's/.*CONFIG_PATH ([^ )]+).*/\1/p' <<<"$fixup")
[[ $package_name == alation-auth ]] || fail "vcpkg_cmake_config_fixup: PACKAGE_NAME is '$package_name'"
[[ -n $config_path ]] || fail "vcpkg_cmake_config_fixup has no CONFIG_PATH"

generator=()
command -v ninja >/dev/null && generator=(-G Ninja)
package_files=(alation-authConfig.cmake alation-authConfigVersion.cmake alation-authTargets.cmake)

# check_install NAME WITH_REDIS PACKAGE_FILE...: installs as the portfile does with the feature
# redis on or off, and checks that the install is exactly the source headers and those package
# files: vcpkg's post-build checks reject stray directories (lib/ in a header-only port, a debug
# tree, config files outside share/<port>).
check_install() {
    local name=$1 with_redis=$2
    shift 2
    local prefix="$work/prefix-$name"
    if ! cmake -S "$root" -B "$work/build-$name" "${generator[@]}" -DCMAKE_BUILD_TYPE=Release \
            -DCMAKE_INSTALL_PREFIX="$prefix" "${options[@]}" -DALATION_AUTH_WITH_REDIS="$with_redis" \
            >"$work/configure-$name.log" 2>&1 ||
        ! cmake --install "$work/build-$name" >"$work/install-$name.log" 2>&1; then
        cat "$work/configure-$name.log" "$work/install-$name.log"
        fail "$name: configuring or installing with the portfile's options failed"
        return
    fi
    local file
    for file in "${package_files[@]}"; do
        [[ -f "$prefix/$config_path/$file" ]] ||
            fail "$name: CONFIG_PATH $config_path: the install has no $config_path/$file"
    done
    local expected actual
    expected=$( (cd "$root" && find include -type f) && for file in "$@"; do echo "$config_path/$file"; done)
    actual=$(cd "$prefix" && find . -type f | sed 's|^\./||')
    if ! diff <(sort <<<"$expected") <(sort <<<"$actual") >"$work/files-$name.diff"; then
        fail "$name: installed files differ from the headers plus $config_path/* (< expected, > installed):"
        cat "$work/files-$name.diff"
    fi
}

check_install default OFF "${package_files[@]}"
# The feature needs hiredis; without it (not installed here) only the default is checked.
if pkg-config --exists hiredis 2>/dev/null; then
    check_install redis ON "${package_files[@]}" alation-authRedisTargets.cmake AlationAuthHiredis.cmake
else
    echo "note: hiredis is not installed, so the feature redis is not checked"
fi

if [[ $errors -ne 0 ]]; then
    echo "$errors vcpkg packaging check(s) failed"
    exit 1
fi
echo "vcpkg manifest and port agree with the install (CONFIG_PATH $config_path)"
