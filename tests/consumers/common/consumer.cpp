// The program every consumer project builds: it only checks that the library is usable.
#include <alation/auth/version.hpp>

#include <cstdio>

int main() {
    std::printf("alation-auth %s\n", ALATION_AUTH_VERSION_STRING);
    return 0;
}
