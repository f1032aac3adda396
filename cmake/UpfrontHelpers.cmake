# One call per module library and one per test, so module CMakeLists stay short.

# upfront_library(NAME SOURCES ... [PUBLIC_DEPS ...] [PRIVATE_DEPS ...])
# Defines upfront_NAME with alias upfront::NAME. Headers are included as
# "src/<module>/x.h" or <upfront/x.h>.
function(upfront_library name)
  cmake_parse_arguments(ARG "" "" "SOURCES;PUBLIC_DEPS;PRIVATE_DEPS" ${ARGN})
  add_library(upfront_${name} STATIC ${ARG_SOURCES})
  add_library(upfront::${name} ALIAS upfront_${name})
  target_include_directories(upfront_${name} PUBLIC ${PROJECT_SOURCE_DIR}/include ${PROJECT_SOURCE_DIR})
  target_link_libraries(upfront_${name} PUBLIC ${ARG_PUBLIC_DEPS} PRIVATE ${ARG_PRIVATE_DEPS})
  target_compile_options(upfront_${name} PRIVATE -Wall -Wextra -Wno-unused-parameter)
endfunction()

# upfront_test(NAME SOURCES ... DEPS ...): a GoogleTest binary registered with ctest.
function(upfront_test name)
  cmake_parse_arguments(ARG "" "" "SOURCES;DEPS" ${ARGN})
  add_executable(${name} ${ARG_SOURCES})
  target_link_libraries(${name} PRIVATE ${ARG_DEPS} GTest::gtest GTest::gtest_main GTest::gmock)
  target_compile_options(${name} PRIVATE -Wall -Wextra -Wno-unused-parameter)
  target_compile_definitions(${name} PRIVATE UPFRONT_SOURCE_DIR="${PROJECT_SOURCE_DIR}")
  gtest_discover_tests(${name} DISCOVERY_TIMEOUT 60
                       PROPERTIES ENVIRONMENT "UPFRONT_SOURCE_DIR=${PROJECT_SOURCE_DIR}")
endfunction()
include(GoogleTest)
