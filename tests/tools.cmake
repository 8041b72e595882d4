# What the tests need from the machine: every program or library a test runs is looked up
# through the helpers below (never with a bare find_program or pkg_check_modules), each
# with the Debian package that provides it and the tests that need it.
#
# A missing tool is an error. elb_test_tools_report() stops the configuration with one
# message naming every missing tool and its package. A partial run is asked for by name:
#   -DELB_ALLOW_MISSING_TOOLS=ON  the error becomes a warning that lists what is left out,
#                                 and the tests of the missing tools are not registered;
#   -DELB_TESTS=OFF               (top level) builds no tests at all.
#
# ELB_FAKE_MISSING is a test hook (tests/tools_check.sh): a list of tool names (the first
# name given to the helper: cmocka, promtool, valgrind, clang-14, ipv6-loopback, ...) to
# treat as missing although they are installed.

option(ELB_ALLOW_MISSING_TOOLS
       "Partial run: leave out the tests whose tools are missing (a warning, not an error)" OFF)
set(ELB_FAKE_MISSING "" CACHE STRING "Test hook: test tools to treat as missing")
mark_as_advanced(ELB_FAKE_MISSING)

set_property(GLOBAL PROPERTY ELB_MISSING_TOOLS "")
set_property(GLOBAL PROPERTY ELB_MISSING_PACKAGES "")
set_property(GLOBAL PROPERTY ELB_LEFT_OUT "")
set_property(GLOBAL PROPERTY ELB_TEST_PACKAGES "")

# elb_test_missing(TOOL HINT FOR): record TOOL as missing; HINT says how to get it, FOR
# what is left out without it.
function(elb_test_missing tool hint for)
  set_property(GLOBAL APPEND PROPERTY ELB_MISSING_TOOLS "${tool} (${hint})")
  set_property(GLOBAL APPEND PROPERTY ELB_LEFT_OUT ${for})
endfunction()

function(_elb_test_package package)
  set_property(GLOBAL APPEND PROPERTY ELB_TEST_PACKAGES ${package})
endfunction()

function(_elb_test_missing_package tool package for)
  set_property(GLOBAL APPEND PROPERTY ELB_MISSING_PACKAGES ${package})
  list(JOIN package " " p)
  elb_test_missing("${tool}" "apt-get install ${p}" "${for}")
endfunction()

# elb_test_program(VAR NAMES name... PACKAGE pkg... FOR test...): find_program(VAR) for
# the tests FOR; VAR is false when the tool is missing (and the miss is recorded).
function(elb_test_program var)
  cmake_parse_arguments(PARSE_ARGV 1 A "" "" "NAMES;PACKAGE;FOR")
  if(NOT A_NAMES OR NOT A_PACKAGE OR NOT A_FOR)
    message(FATAL_ERROR "elb_test_program(${var}): NAMES, PACKAGE and FOR are required")
  endif()
  list(GET A_NAMES 0 tool)
  _elb_test_package("${A_PACKAGE}")
  if(tool IN_LIST ELB_FAKE_MISSING)
    set(${var} "${var}-NOTFOUND" PARENT_SCOPE)
  else()
    find_program(${var} NAMES ${A_NAMES})
  endif()
  if(tool IN_LIST ELB_FAKE_MISSING OR NOT ${var})
    _elb_test_missing_package("${tool}" "${A_PACKAGE}" "${A_FOR}")
  endif()
endfunction()

# elb_test_module(PREFIX MODULE PACKAGE pkg... FOR test...): pkg_check_modules(PREFIX
# IMPORTED_TARGET MODULE) for the tests FOR; PREFIX_FOUND is false when it is missing.
function(elb_test_module prefix module)
  cmake_parse_arguments(PARSE_ARGV 2 A "" "" "PACKAGE;FOR")
  if(NOT A_PACKAGE OR NOT A_FOR)
    message(FATAL_ERROR "elb_test_module(${prefix}): PACKAGE and FOR are required")
  endif()
  _elb_test_package("${A_PACKAGE}")
  set(found FALSE)
  if(NOT module IN_LIST ELB_FAKE_MISSING)
    pkg_check_modules(${prefix} QUIET IMPORTED_TARGET ${module})
    set(found ${${prefix}_FOUND})
  endif()
  if(NOT found)
    _elb_test_missing_package("${module}" "${A_PACKAGE}" "${A_FOR}")
  endif()
  set(${prefix}_FOUND ${found} PARENT_SCOPE)
endfunction()

# elb_test_libfuzzer(VAR CC PACKAGE pkg... FOR test...): VAR is true when CC links a
# libFuzzer target with ASan and UBSan (clang alone has no libFuzzer runtime on Debian).
function(elb_test_libfuzzer var cc)
  cmake_parse_arguments(PARSE_ARGV 2 A "" "" "PACKAGE;FOR")
  _elb_test_package("${A_PACKAGE}")
  set(ok FALSE)
  if(cc AND NOT "libfuzzer" IN_LIST ELB_FAKE_MISSING)
    set(dir ${CMAKE_CURRENT_BINARY_DIR}/libfuzzer-check)
    file(WRITE ${dir}/f.c
         "#include <stddef.h>\n#include <stdint.h>\n"
         "int LLVMFuzzerTestOneInput(const uint8_t *d, size_t n);\n"
         "int LLVMFuzzerTestOneInput(const uint8_t *d, size_t n) { (void)d; (void)n; return 0; }\n")
    execute_process(COMMAND ${cc} -fsanitize=fuzzer,address,undefined -o ${dir}/f ${dir}/f.c
                    RESULT_VARIABLE rc OUTPUT_QUIET ERROR_VARIABLE err)
    if(rc EQUAL 0)
      set(ok TRUE)
    else()
      message(STATUS "${cc} cannot link a libFuzzer target:\n${err}")
    endif()
  endif()
  if(NOT ok)
    _elb_test_missing_package("libFuzzer runtime" "${A_PACKAGE}" "${A_FOR}")
  endif()
  set(${var} ${ok} PARENT_SCOPE)
endfunction()

# elb_test_python_module(VAR MODULE PACKAGE pkg... FOR test...): VAR is Debian's python3
# (/usr/bin, the interpreter Debian's python3-* packages install for, not a python3 earlier
# in PATH such as pyenv's) when it imports MODULE; false (the miss recorded) otherwise.
function(elb_test_python_module var module)
  cmake_parse_arguments(PARSE_ARGV 2 A "" "" "PACKAGE;FOR")
  if(NOT A_PACKAGE OR NOT A_FOR)
    message(FATAL_ERROR "elb_test_python_module(${var}): PACKAGE and FOR are required")
  endif()
  _elb_test_package("${A_PACKAGE}")
  set(ok FALSE)
  if(NOT module IN_LIST ELB_FAKE_MISSING)
    find_program(${var} NAMES python3 PATHS /usr/bin NO_DEFAULT_PATH)
    if(${var})
      execute_process(COMMAND ${${var}} -c "import ${module}" RESULT_VARIABLE rc
                      OUTPUT_QUIET ERROR_QUIET)
      if(rc EQUAL 0)
        set(ok TRUE)
      endif()
    endif()
  endif()
  if(ok)
    set(${var} ${${var}} PARENT_SCOPE)
  else()
    set(${var} "${var}-NOTFOUND" PARENT_SCOPE)
    _elb_test_missing_package("${module}" "${A_PACKAGE}" "${A_FOR}")
  endif()
endfunction()

# elb_test_ipv6_loopback(VAR FOR test...): VAR is true when ::1 is on the loopback
# interface; the IPv6 cases of the tests FOR skip themselves without it.
function(elb_test_ipv6_loopback var)
  cmake_parse_arguments(PARSE_ARGV 1 A "" "" "FOR")
  set(ok FALSE)
  if(NOT "ipv6-loopback" IN_LIST ELB_FAKE_MISSING AND EXISTS /proc/net/if_inet6)
    file(STRINGS /proc/net/if_inet6 lines REGEX "^00000000000000000000000000000001 ")
    if(lines)
      set(ok TRUE)
    endif()
  endif()
  if(NOT ok)
    elb_test_missing("ipv6-loopback" "::1 on lo: sysctl -w net.ipv6.conf.lo.disable_ipv6=0"
                     "${A_FOR}")
  endif()
  set(${var} ${ok} PARENT_SCOPE)
endfunction()

# elb_test_tools_report(): after every lookup. Writes test-packages.txt (every package the
# lookups name, for tests/tools_check.sh), then fails, or warns on a requested partial run.
function(elb_test_tools_report)
  get_property(packages GLOBAL PROPERTY ELB_TEST_PACKAGES)
  list(REMOVE_DUPLICATES packages)
  list(SORT packages)
  list(JOIN packages "\n" text)
  file(WRITE ${CMAKE_BINARY_DIR}/test-packages.txt "${text}\n")

  get_property(missing GLOBAL PROPERTY ELB_MISSING_TOOLS)
  if(NOT missing)
    return()
  endif()
  list(REMOVE_DUPLICATES missing)
  list(JOIN missing ", " missing)
  get_property(left_out GLOBAL PROPERTY ELB_LEFT_OUT)
  list(REMOVE_DUPLICATES left_out)
  list(JOIN left_out ", " left_out)
  get_property(install GLOBAL PROPERTY ELB_MISSING_PACKAGES)
  list(REMOVE_DUPLICATES install)
  list(JOIN install " " install)
  # Lines that start with a space are printed as they are (CMake wraps the others).
  set(msg " missing test tools: ${missing}\n")
  if(install)
    string(APPEND msg " install them: apt-get install ${install}   (packaging/dev.sh deps installs every one)\n")
  endif()
  if(ELB_ALLOW_MISSING_TOOLS)
    message(WARNING "${msg} ELB_ALLOW_MISSING_TOOLS=ON, a partial run: left out: ${left_out}\n")
  else()
    message(FATAL_ERROR
            "${msg} They would be needed by: ${left_out}\n"
            " For a partial run without them, ask for it by name: -DELB_ALLOW_MISSING_TOOLS=ON"
            " (or build no tests: -DELB_TESTS=OFF).\n")
  endif()
endfunction()
