# Included after project() by the CMake presets (CMAKE_PROJECT_INCLUDE): compile through ccache when
# it is installed, and silently without it otherwise. An explicit CMAKE_CXX_COMPILER_LAUNCHER wins.
if(NOT CMAKE_CXX_COMPILER_LAUNCHER)
    find_program(ALATION_AUTH_CCACHE_PROGRAM ccache)
    if(ALATION_AUTH_CCACHE_PROGRAM)
        set(CMAKE_CXX_COMPILER_LAUNCHER "${ALATION_AUTH_CCACHE_PROGRAM}")
    endif()
endif()
