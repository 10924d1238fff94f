# Runs ports/alation-auth/portfile.cmake without vcpkg. The vcpkg helpers it calls are defined here
# as the plain CMake steps vcpkg runs for them, with the arguments the portfile passes: features to
# -D options, configure (Ninja, Release, the portfile's OPTIONS and those vcpkg adds), build the
# install target, move the package files to share/<name> and rewrite their prefix computation as
# vcpkg does; then two of vcpkg's post-build checks. vcpkg's toolchain file and triplet flags are
# left out: Boost, OpenSSL and hiredis come from the system, so the port is checked against the
# CMake packages of the distribution it runs on.
#
# Usage: cmake -DWORK_DIR=<empty dir> [-DFEATURES=redis;...] -P tests/packaging/run_portfile.cmake
#   Installs into WORK_DIR/packages (vcpkg's CURRENT_PACKAGES_DIR); build trees in WORK_DIR/buildtrees.
#   FEATURES are vcpkg features of the port besides "core"; those they depend on are added, as vcpkg does.
#   The compiler is CMake's default (set CXX to choose another).
cmake_minimum_required(VERSION 3.20)

if(NOT WORK_DIR)
    message(FATAL_ERROR "usage: cmake -DWORK_DIR=<dir> [-DFEATURES=...] -P ${CMAKE_CURRENT_LIST_FILE}")
endif()
set(PORT alation-auth)
get_filename_component(port_dir "${CMAKE_CURRENT_LIST_DIR}/../../ports/${PORT}" ABSOLUTE)
set(CURRENT_PACKAGES_DIR "${WORK_DIR}/packages")
set(CURRENT_BUILDTREES_DIR "${WORK_DIR}/buildtrees")
set(TARGET_TRIPLET x64-linux)
file(REMOVE_RECURSE "${CURRENT_PACKAGES_DIR}" "${CURRENT_BUILDTREES_DIR}")

# FEATURES as vcpkg computes it: "core", those asked for, and the features of this port that
# they depend on ({"name": "alation-auth", "features": [...]}), transitively.
file(READ "${port_dir}/vcpkg.json" manifest)
# json_indices(OUT PATH...): the indices 0;1;... of the members or elements at PATH in the
# manifest, none if PATH is not there.
function(json_indices out)
    string(JSON length ERROR_VARIABLE missing LENGTH "${manifest}" ${ARGN})
    set(indices "")
    if(NOT missing AND length GREATER 0)
        math(EXPR last "${length} - 1")
        foreach(i RANGE ${last})
            list(APPEND indices ${i})
        endforeach()
    endif()
    set(${out} "${indices}" PARENT_SCOPE)
endfunction()
set(declared_features "")
json_indices(indices features)
foreach(i IN LISTS indices)
    string(JSON name MEMBER "${manifest}" features ${i})
    list(APPEND declared_features "${name}")
endforeach()
set(pending ${FEATURES})
set(FEATURES core)
while(pending)
    list(POP_FRONT pending feature)
    if(feature IN_LIST FEATURES)
        continue()
    endif()
    if(NOT feature IN_LIST declared_features)
        message(FATAL_ERROR "feature '${feature}' is not declared in ${port_dir}/vcpkg.json")
    endif()
    list(APPEND FEATURES "${feature}")
    json_indices(indices features "${feature}" dependencies)
    foreach(i IN LISTS indices)
        string(JSON name ERROR_VARIABLE not_an_object GET "${manifest}" features "${feature}" dependencies ${i} name)
        if(NOT not_an_object AND name STREQUAL PORT)
            json_indices(self_indices features "${feature}" dependencies ${i} features)
            foreach(j IN LISTS self_indices)
                string(JSON self_feature GET "${manifest}" features "${feature}" dependencies ${i} features ${j})
                list(APPEND pending "${self_feature}")
            endforeach()
        endif()
    endforeach()
endwhile()
message(STATUS "FEATURES: ${FEATURES}")

# run(COMMAND...): runs a step, failing the script with its output if it fails.
function(run)
    execute_process(COMMAND ${ARGN} RESULT_VARIABLE result OUTPUT_VARIABLE output ERROR_VARIABLE output)
    if(NOT result EQUAL 0)
        list(JOIN ARGN " " command)
        message(FATAL_ERROR "failed (${result}): ${command}\n${output}")
    endif()
    set(run_output "${output}" PARENT_SCOPE)
endfunction()

function(vcpkg_check_features)
    cmake_parse_arguments(PARSE_ARGV 0 arg "" "OUT_FEATURE_OPTIONS" "FEATURES;INVERTED_FEATURES")
    if(arg_UNPARSED_ARGUMENTS)
        message(FATAL_ERROR "vcpkg_check_features: arguments this check does not model: ${arg_UNPARSED_ARGUMENTS}")
    endif()
    set(options "")
    foreach(kind FEATURES INVERTED_FEATURES)
        set(pairs ${arg_${kind}})
        while(pairs)
            list(POP_FRONT pairs feature option)
            if(NOT feature IN_LIST declared_features)
                message(FATAL_ERROR "vcpkg_check_features: feature '${feature}' is not in vcpkg.json")
            endif()
            # INVERTED_FEATURES turn their option OFF when the feature is on.
            set(on OFF)
            if((feature IN_LIST FEATURES AND kind STREQUAL "FEATURES")
                    OR (NOT feature IN_LIST FEATURES AND kind STREQUAL "INVERTED_FEATURES"))
                set(on ON)
            endif()
            list(APPEND options "-D${option}=${on}")
        endwhile()
    endforeach()
    set(${arg_OUT_FEATURE_OPTIONS} "${options}" PARENT_SCOPE)
endfunction()

# The port is header-only and builds one (release) configuration; vcpkg's debug tree and the
# merging of debug targets into share/ are not modelled, so a port that needs them fails here.
macro(z_release_only helper)
    if(NOT VCPKG_BUILD_TYPE STREQUAL "release")
        message(FATAL_ERROR "${helper}: this check models release-only ports (set(VCPKG_BUILD_TYPE release))")
    endif()
endmacro()
set(build_tree "${CURRENT_BUILDTREES_DIR}/${TARGET_TRIPLET}-rel")

function(vcpkg_cmake_configure)
    cmake_parse_arguments(PARSE_ARGV 0 arg "" "SOURCE_PATH" "OPTIONS;OPTIONS_RELEASE;MAYBE_UNUSED_VARIABLES")
    if(arg_UNPARSED_ARGUMENTS)
        message(FATAL_ERROR "vcpkg_cmake_configure: arguments this check does not model: ${arg_UNPARSED_ARGUMENTS}")
    endif()
    z_release_only(vcpkg_cmake_configure)
    # The options vcpkg_cmake_configure adds that matter without its toolchain file.
    run("${CMAKE_COMMAND}" -S "${arg_SOURCE_PATH}" -B "${build_tree}" ${arg_OPTIONS} ${arg_OPTIONS_RELEASE}
        -G Ninja -DCMAKE_BUILD_TYPE=Release "-DCMAKE_INSTALL_PREFIX=${CURRENT_PACKAGES_DIR}"
        -DBUILD_SHARED_LIBS=OFF -DCMAKE_INSTALL_LIBDIR:STRING=lib -DCMAKE_INSTALL_BINDIR:STRING=bin
        -DCMAKE_EXPORT_NO_PACKAGE_REGISTRY=ON -DCMAKE_FIND_PACKAGE_NO_PACKAGE_REGISTRY=ON
        -DCMAKE_ERROR_ON_ABSOLUTE_INSTALL_DESTINATION=ON)
    # vcpkg warns about the portfile's options that the project does not use; so does this check,
    # and about any other CMake warning.
    set(unused_block "Manually-specified variables were not used by the project:\n\n((    [^\n]*\n)*)")
    if(run_output MATCHES "${unused_block}")
        string(REGEX MATCHALL "[^ \n]+" unused "${CMAKE_MATCH_1}")
        foreach(option IN LISTS arg_OPTIONS arg_OPTIONS_RELEASE)
            if(option MATCHES "^-D([^:=]+)" AND CMAKE_MATCH_1 IN_LIST unused
                    AND NOT CMAKE_MATCH_1 IN_LIST arg_MAYBE_UNUSED_VARIABLES)
                message(FATAL_ERROR "vcpkg_cmake_configure: the project does not use ${option}")
            endif()
        endforeach()
    endif()
    string(REGEX REPLACE "CMake Warning:\n  ${unused_block}" "" other_output "${run_output}")
    if(other_output MATCHES "CMake [A-Za-z ]*Warning")
        message(FATAL_ERROR "vcpkg_cmake_configure: CMake warned:\n${run_output}")
    endif()
endfunction()

function(vcpkg_cmake_install)
    z_release_only(vcpkg_cmake_install)
    run("${CMAKE_COMMAND}" --build "${build_tree}" --target install)
endfunction()

function(vcpkg_cmake_config_fixup)
    cmake_parse_arguments(PARSE_ARGV 0 arg "" "PACKAGE_NAME;CONFIG_PATH" "")
    if(arg_UNPARSED_ARGUMENTS)
        message(FATAL_ERROR "vcpkg_cmake_config_fixup: arguments this check does not model: ${arg_UNPARSED_ARGUMENTS}")
    endif()
    z_release_only(vcpkg_cmake_config_fixup)
    if(NOT arg_PACKAGE_NAME)
        set(arg_PACKAGE_NAME "${PORT}")
    endif()
    if(NOT arg_CONFIG_PATH)
        set(arg_CONFIG_PATH "share/${arg_PACKAGE_NAME}")
    endif()
    set(share "${CURRENT_PACKAGES_DIR}/share/${arg_PACKAGE_NAME}")
    if(NOT IS_DIRECTORY "${CURRENT_PACKAGES_DIR}/${arg_CONFIG_PATH}")
        message(FATAL_ERROR "vcpkg_cmake_config_fixup: '${CURRENT_PACKAGES_DIR}/${arg_CONFIG_PATH}' does not exist")
    endif()
    if(NOT arg_CONFIG_PATH STREQUAL "share/${arg_PACKAGE_NAME}")
        file(GLOB files "${CURRENT_PACKAGES_DIR}/${arg_CONFIG_PATH}/*")
        file(COPY ${files} DESTINATION "${share}")
        file(REMOVE_RECURSE "${CURRENT_PACKAGES_DIR}/${arg_CONFIG_PATH}")
    endif()
    # Like vcpkg, assume share/<name>, two levels below the prefix, in every prefix computation the
    # package files make, and replace the packages directory by the prefix.
    file(GLOB_RECURSE cmake_files "${share}/*.cmake")
    foreach(file IN LISTS cmake_files)
        file(READ "${file}" contents)
        string(REGEX REPLACE [[get_filename_component\(_IMPORT_PREFIX "\${CMAKE_CURRENT_LIST_FILE}" PATH\)(
get_filename_component\(_IMPORT_PREFIX "\${_IMPORT_PREFIX}" PATH\))*]] [[get_filename_component(_IMPORT_PREFIX "${CMAKE_CURRENT_LIST_FILE}" PATH)
get_filename_component(_IMPORT_PREFIX "${_IMPORT_PREFIX}" PATH)
get_filename_component(_IMPORT_PREFIX "${_IMPORT_PREFIX}" PATH)]] contents "${contents}")
        string(REGEX REPLACE [[get_filename_component\(PACKAGE_PREFIX_DIR "\${CMAKE_CURRENT_LIST_DIR}/\.\./(\.\./)*" ABSOLUTE\)]]
            [[get_filename_component(PACKAGE_PREFIX_DIR "${CMAKE_CURRENT_LIST_DIR}/../../" ABSOLUTE)]] contents "${contents}")
        string(REPLACE "${CURRENT_PACKAGES_DIR}" [[${_IMPORT_PREFIX}]] contents "${contents}")
        file(WRITE "${file}" "${contents}")
    endforeach()
endfunction()

function(vcpkg_install_copyright)
    cmake_parse_arguments(PARSE_ARGV 0 arg "" "" "FILE_LIST")
    set(text "")
    foreach(file IN LISTS arg_FILE_LIST)
        if(NOT EXISTS "${file}")
            message(FATAL_ERROR "vcpkg_install_copyright: ${file} does not exist")
        endif()
        file(READ "${file}" contents)
        string(APPEND text "${contents}")
    endforeach()
    file(WRITE "${CURRENT_PACKAGES_DIR}/share/${PORT}/copyright" "${text}")
endfunction()

include("${port_dir}/portfile.cmake")

# vcpkg's post-build checks that concern this port: a copyright file, and no absolute path of the
# build machine (packages, build trees, sources) in what is installed, so the package relocates.
if(NOT EXISTS "${CURRENT_PACKAGES_DIR}/share/${PORT}/copyright")
    message(FATAL_ERROR "the port installs no share/${PORT}/copyright")
endif()
file(GLOB_RECURSE installed "${CURRENT_PACKAGES_DIR}/*")
foreach(file IN LISTS installed)
    file(READ "${file}" contents)
    foreach(path "${CURRENT_PACKAGES_DIR}" "${CURRENT_BUILDTREES_DIR}" "${SOURCE_PATH}")
        string(FIND "${contents}" "${path}" at)
        if(NOT at EQUAL -1)
            message(FATAL_ERROR "${file} contains the absolute path ${path}")
        endif()
    endforeach()
endforeach()
