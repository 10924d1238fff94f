// Compiles the fake Alation and its certificate generator once, for the programs that embed them.
#include <alation/auth/testing/src.hpp>
