// build_cost.sh: the library's non-template code compiled once (<alation/auth/src.hpp>), next to
// beast_only.cpp: about what a header-only TU that builds and uses a TokenProvider generates on top
// of its own code. Not a target: it accounts for the header-only figure.
#include <alation/auth/src.hpp>
