# Shared build settings for every dynarep target.
add_library(dynarep_options INTERFACE)
target_compile_options(dynarep_options INTERFACE
  -Wall -Wextra -Wpedantic -Wshadow -Wnon-virtual-dtor -Wold-style-cast -Wcast-align
  -Wunused -Woverloaded-virtual -Wnull-dereference -Wimplicit-fallthrough
  $<$<BOOL:${DYNAREP_WERROR}>:-Werror>)
if(DYNAREP_SANITIZE)
  target_compile_options(dynarep_options INTERFACE
    -fsanitize=address,undefined -fno-omit-frame-pointer -fno-sanitize-recover=undefined
    # GCC 12's flow analysis under the sanitizers' instrumentation reports uninitialized
    # reads inside libstdc++ (std::regex's std::function states) that the debug build's
    # -Werror run does not see; the sanitizers themselves check what this warning guesses at.
    $<$<CXX_COMPILER_ID:GNU>:-Wno-maybe-uninitialized>)
  target_link_options(dynarep_options INTERFACE -fsanitize=address,undefined)
endif()

# dynarep_module(NAME SOURCES ... DEPS ...): one library per src/<NAME> folder, public
# headers included as "<NAME>/header.h" from src/.
function(dynarep_module name)
  cmake_parse_arguments(M "" "" "SOURCES;DEPS" ${ARGN})
  if(NOT M_SOURCES)
    message(STATUS "module ${name}: no sources yet, skipped")
    return()
  endif()
  add_library(dynarep_${name} STATIC ${M_SOURCES})
  add_library(dynarep::${name} ALIAS dynarep_${name})
  # Installed, the headers keep their "<NAME>/header.h" paths under include/dynarep
  # (cmake/Package.cmake), so an application includes them the same way.
  target_include_directories(dynarep_${name} PUBLIC $<BUILD_INTERFACE:${CMAKE_SOURCE_DIR}/src>
                                                    $<INSTALL_INTERFACE:include/dynarep>)
  set_target_properties(dynarep_${name} PROPERTIES EXPORT_NAME ${name})
  target_link_libraries(dynarep_${name} PUBLIC ${M_DEPS} PRIVATE dynarep_options)
endfunction()

# dynarep_test(NAME SOURCES ... DEPS ... [STACK] [LABELS ...] [TIMEOUT SECONDS]): a GoogleTest
# binary; STACK tests need the local AWS stack and share one started by the `stack` CTest
# fixture. LABELS are given to its tests besides "integration" (STACK) or "unit"; TIMEOUT
# replaces the test preset's per-test timeout.
function(dynarep_test name)
  cmake_parse_arguments(T "STACK" "TIMEOUT" "SOURCES;DEPS;LABELS" ${ARGN})
  add_executable(${name} ${T_SOURCES})
  target_link_libraries(${name} PRIVATE ${T_DEPS} dynarep_testing GTest::gtest_main GTest::gmock dynarep_options)
  add_dependencies(${name} dynarep)
  if(T_STACK)
    gtest_discover_tests(${name}
      PROPERTIES FIXTURES_REQUIRED local_stack LABELS "integration"
                 ENVIRONMENT "DYNAREP_STACK_ENV=${CMAKE_BINARY_DIR}/stack/stack.env"
      DISCOVERY_TIMEOUT 30)
  else()
    gtest_discover_tests(${name}
      PROPERTIES LABELS "unit"
      DISCOVERY_TIMEOUT 30)
  endif()
  if(T_LABELS OR T_TIMEOUT)
    # gtest_discover_tests' PROPERTIES cannot carry a list (its semicolons split the arguments),
    # so a second include file, read by ctest after the discovered tests, sets these.
    if(T_STACK)
      set(labels integration ${T_LABELS})
    else()
      set(labels unit ${T_LABELS})
    endif()
    set(props "LABELS \"${labels}\"")
    if(T_TIMEOUT)
      string(APPEND props " TIMEOUT ${T_TIMEOUT}")
    endif()
    set(f ${CMAKE_CURRENT_BINARY_DIR}/${name}_properties.cmake)
    file(WRITE ${f} "if(${name}_TESTS)\n  set_tests_properties(\${${name}_TESTS} PROPERTIES ${props})\nendif()\n")
    set_property(DIRECTORY APPEND PROPERTY TEST_INCLUDE_FILES ${f})
  endif()
endfunction()
