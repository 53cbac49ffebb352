# Shared build settings for grep11 targets.

# Warnings are errors on our own code only; generated protobuf-c code is
# compiled without -Werror (see proto/CMakeLists.txt).
set(GREP11_WARNINGS -Wall -Wextra -Werror -Wshadow -Wformat=2 -Wvla)

if(GREP11_SANITIZE)
  add_compile_options(-fsanitize=address,undefined -fno-sanitize-recover=undefined
                      -fno-omit-frame-pointer)
  add_link_options(-fsanitize=address,undefined)
endif()

if(GREP11_FUZZ)
  if(NOT CMAKE_C_COMPILER_ID MATCHES "Clang" OR NOT CMAKE_CXX_COMPILER_ID MATCHES "Clang")
    message(FATAL_ERROR "GREP11_FUZZ needs clang and clang++ (libFuzzer): CC=clang CXX=clang++")
  endif()
  add_compile_options(-fsanitize=fuzzer-no-link)
endif()

# grep11_target_warnings(<target>): apply our warning set.
function(grep11_target_warnings target)
  target_compile_options(${target} PRIVATE ${GREP11_WARNINGS})
endfunction()

# grep11_add_unit_test(<name> SOURCES <src...> LIBS <lib...>)
# A cmocka test executable registered with ctest under the label "unit".
function(grep11_add_unit_test name)
  cmake_parse_arguments(T "" "" "SOURCES;LIBS" ${ARGN})
  add_executable(${name} ${T_SOURCES})
  grep11_target_warnings(${name})
  target_link_libraries(${name} PRIVATE ${T_LIBS} grep11_testvec PkgConfig::CMOCKA)
  add_test(NAME ${name} COMMAND ${name})
  set_tests_properties(${name} PROPERTIES LABELS unit
    ENVIRONMENT "GREP11_VECTORS_DIR=${GREP11_VECTORS_DIR}")
endfunction()

# grep11_add_fuzzer(<name> SOURCES <src...> LIBS <lib...> [SECONDS n])
# A libFuzzer target (only with GREP11_FUZZ) that ctest runs briefly.
function(grep11_add_fuzzer name)
  cmake_parse_arguments(F "" "SECONDS" "SOURCES;LIBS" ${ARGN})
  if(NOT GREP11_FUZZ)
    return()
  endif()
  if(NOT F_SECONDS)
    set(F_SECONDS 15)
  endif()
  add_executable(${name} ${F_SOURCES})
  grep11_target_warnings(${name})
  target_compile_options(${name} PRIVATE -fsanitize=fuzzer)
  target_link_options(${name} PRIVATE -fsanitize=fuzzer)
  target_link_libraries(${name} PRIVATE ${F_LIBS})
  set(corpus ${CMAKE_CURRENT_BINARY_DIR}/${name}-corpus)
  add_test(NAME ${name}
    COMMAND ${CMAKE_COMMAND} -E env ASAN_OPTIONS=detect_leaks=1
            $<TARGET_FILE:${name}> -max_total_time=${F_SECONDS} -rss_limit_mb=2048
            -print_final_stats=1 ${corpus})
  set_tests_properties(${name} PROPERTIES LABELS fuzz)
  file(MAKE_DIRECTORY ${corpus})
endfunction()
