# The library's dependencies, found the same way by the build tree and by the installed package.
include(GNUInstallDirs)
# Boost's own package (BoostConfig.cmake, shipped by Debian's libboost-dev and by vcpkg), never
# CMake's FindBoost: CONFIG does not load that module, which CMake 3.30 deprecates (policy CMP0167),
# so no CMake version warns and none needs the policy set. Asio and Beast are header-only
# (Boost::headers); only json and url are compiled libraries.
find_package(Boost 1.81 REQUIRED CONFIG COMPONENTS json url)
find_package(OpenSSL 3 REQUIRED)
find_package(Threads REQUIRED)
