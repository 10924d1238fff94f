# Overlay port that builds alation-auth from the checkout it lives in:
#   vcpkg install alation-auth --overlay-ports=<checkout>/ports
# The sources are this port's grandparent directory, not a download, so the port always matches
# the checkout. vcpkg's binary cache keys on the port's own files only: after changing the library,
# reinstall with --no-binarycaching (or bump port-version) to pick the change up.
# A port for the public registry would use vcpkg_from_github with a released tag and its SHA512.
get_filename_component(SOURCE_PATH "${CMAKE_CURRENT_LIST_DIR}/../.." ABSOLUTE)

# Header-only: one release configuration, and the install produces no lib/ or bin/ directory.
set(VCPKG_BUILD_TYPE release)

# Feature "redis": the Redis token store (alation::auth_redis, over hiredis); off without it.
# Feature "redis-tls" only adds hiredis[ssl] and turns "redis" on (vcpkg.json).
vcpkg_check_features(OUT_FEATURE_OPTIONS FEATURE_OPTIONS FEATURES redis ALATION_AUTH_WITH_REDIS)

vcpkg_cmake_configure(
    SOURCE_PATH "${SOURCE_PATH}"
    OPTIONS
        ${FEATURE_OPTIONS}
        -DALATION_AUTH_INSTALL=ON
        -DALATION_AUTH_BUILD_TESTS=OFF
        -DALATION_AUTH_BUILD_EXAMPLES=OFF
        -DALATION_AUTH_BUILD_BENCHMARKS=OFF
        -DALATION_AUTH_BUILD_FUZZERS=OFF
)
vcpkg_cmake_install()
# The project installs its package files to share/alation-auth (CMAKE_INSTALL_DATADIR), where vcpkg
# wants them; the fixup still makes their paths relocatable.
vcpkg_cmake_config_fixup(PACKAGE_NAME alation-auth CONFIG_PATH share/alation-auth)

file(INSTALL "${CMAKE_CURRENT_LIST_DIR}/usage" DESTINATION "${CURRENT_PACKAGES_DIR}/share/${PORT}")
vcpkg_install_copyright(FILE_LIST "${SOURCE_PATH}/LICENSE")
