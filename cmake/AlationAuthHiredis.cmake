# Finds hiredis, the C client under the optional Redis token store, as the target alation::hiredis:
# through pkg-config (Debian, most distributions), else by its header and library. Used by the
# build tree and by the installed package, the latter only when the `redis` component is asked for.
# With hiredis_ssl beside it (hiredis 1.0 and later built with TLS, as in Debian 13's
# libhiredis-dev; 0.14 has none) the target links it too and defines ALATION_AUTH_HAS_HIREDIS_SSL=1,
# else ALATION_AUTH_HAS_HIREDIS_SSL=0 (RedisTokenStore then refuses TLS options).
# Sets ALATION_AUTH_HIREDIS_FOUND.
if(NOT TARGET alation::hiredis)
    set(alation_auth_hiredis_ssl "")
    find_package(PkgConfig QUIET)
    if(PKG_CONFIG_FOUND)
        pkg_check_modules(ALATION_AUTH_HIREDIS_PC QUIET IMPORTED_TARGET hiredis)
        pkg_check_modules(ALATION_AUTH_HIREDIS_SSL_PC QUIET IMPORTED_TARGET hiredis_ssl)
    endif()
    if(TARGET PkgConfig::ALATION_AUTH_HIREDIS_PC)
        add_library(alation::hiredis INTERFACE IMPORTED)
        target_link_libraries(alation::hiredis INTERFACE PkgConfig::ALATION_AUTH_HIREDIS_PC)
        if(TARGET PkgConfig::ALATION_AUTH_HIREDIS_SSL_PC)
            set(alation_auth_hiredis_ssl PkgConfig::ALATION_AUTH_HIREDIS_SSL_PC)
        endif()
    else()
        find_path(ALATION_AUTH_HIREDIS_INCLUDE_DIR hiredis/async.h)
        find_library(ALATION_AUTH_HIREDIS_LIBRARY hiredis)
        if(ALATION_AUTH_HIREDIS_INCLUDE_DIR AND ALATION_AUTH_HIREDIS_LIBRARY)
            add_library(alation::hiredis UNKNOWN IMPORTED)
            set_target_properties(alation::hiredis PROPERTIES
                IMPORTED_LOCATION "${ALATION_AUTH_HIREDIS_LIBRARY}"
                INTERFACE_INCLUDE_DIRECTORIES "${ALATION_AUTH_HIREDIS_INCLUDE_DIR}")
            find_library(ALATION_AUTH_HIREDIS_SSL_LIBRARY hiredis_ssl)
            if(ALATION_AUTH_HIREDIS_SSL_LIBRARY AND EXISTS "${ALATION_AUTH_HIREDIS_INCLUDE_DIR}/hiredis/hiredis_ssl.h")
                set(alation_auth_hiredis_ssl "${ALATION_AUTH_HIREDIS_SSL_LIBRARY}")
            endif()
        endif()
    endif()
    # The header reads the definition, so what it compiles always matches what is linked.
    if(TARGET alation::hiredis AND alation_auth_hiredis_ssl)
        target_link_libraries(alation::hiredis INTERFACE "${alation_auth_hiredis_ssl}")
        target_compile_definitions(alation::hiredis INTERFACE ALATION_AUTH_HAS_HIREDIS_SSL=1)
    elseif(TARGET alation::hiredis)
        target_compile_definitions(alation::hiredis INTERFACE ALATION_AUTH_HAS_HIREDIS_SSL=0)
    endif()
endif()
if(TARGET alation::hiredis)
    set(ALATION_AUTH_HIREDIS_FOUND TRUE)
else()
    set(ALATION_AUTH_HIREDIS_FOUND FALSE)
endif()
