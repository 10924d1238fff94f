# The consumer program, shared by the three ways of getting alation-auth. With
# -DCONSUMER_SEPARATE_COMPILATION=ON it is built as a user who opts into separate compilation
# would: ALATION_AUTH_SEPARATE_COMPILATION everywhere and the library's sources in one TU of its own.
option(CONSUMER_SEPARATE_COMPILATION "Build with ALATION_AUTH_SEPARATE_COMPILATION" OFF)

add_executable(consumer ${CMAKE_CURRENT_LIST_DIR}/consumer.cpp)
target_link_libraries(consumer PRIVATE alation::auth alation::auth_testing)
if(CONSUMER_SEPARATE_COMPILATION)
    target_sources(consumer PRIVATE ${CMAKE_CURRENT_LIST_DIR}/alation_auth_src.cpp)
    target_compile_definitions(consumer PRIVATE ALATION_AUTH_SEPARATE_COMPILATION)
endif()

# The optional Redis component wherever this build has it (hiredis installed): the consumer also
# runs a RedisTokenStore operation, so hiredis is linked and called.
if(TARGET alation::auth_redis)
    target_link_libraries(consumer PRIVATE alation::auth_redis)
    target_compile_definitions(consumer PRIVATE CONSUMER_WITH_REDIS)
endif()
