# Finds hiredis, the C client under the optional Redis token store, as the target alation::hiredis:
# through pkg-config (Debian, most distributions), else by its header and library. Used by the
# build tree and by the installed package, the latter only when the `redis` component is asked for.
# Sets ALATION_AUTH_HIREDIS_FOUND.
if(NOT TARGET alation::hiredis)
    find_package(PkgConfig QUIET)
    if(PKG_CONFIG_FOUND)
        pkg_check_modules(ALATION_AUTH_HIREDIS_PC QUIET IMPORTED_TARGET hiredis)
    endif()
    if(TARGET PkgConfig::ALATION_AUTH_HIREDIS_PC)
        add_library(alation::hiredis INTERFACE IMPORTED)
        target_link_libraries(alation::hiredis INTERFACE PkgConfig::ALATION_AUTH_HIREDIS_PC)
    else()
        find_path(ALATION_AUTH_HIREDIS_INCLUDE_DIR hiredis/async.h)
        find_library(ALATION_AUTH_HIREDIS_LIBRARY hiredis)
        if(ALATION_AUTH_HIREDIS_INCLUDE_DIR AND ALATION_AUTH_HIREDIS_LIBRARY)
            add_library(alation::hiredis UNKNOWN IMPORTED)
            set_target_properties(alation::hiredis PROPERTIES
                IMPORTED_LOCATION "${ALATION_AUTH_HIREDIS_LIBRARY}"
                INTERFACE_INCLUDE_DIRECTORIES "${ALATION_AUTH_HIREDIS_INCLUDE_DIR}")
        endif()
    endif()
endif()
if(TARGET alation::hiredis)
    set(ALATION_AUTH_HIREDIS_FOUND TRUE)
else()
    set(ALATION_AUTH_HIREDIS_FOUND FALSE)
endif()
