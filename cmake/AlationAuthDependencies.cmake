# The library's dependencies, found the same way by the build tree and by the installed package.
include(GNUInstallDirs)
find_package(Boost 1.81 REQUIRED COMPONENTS json url)
find_package(OpenSSL 3 REQUIRED)
find_package(Threads REQUIRED)
