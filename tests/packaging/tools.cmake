# Included by tests/CMakeLists.txt before elb_test_tools_report(): the tools of the packaging
# tests (tests/packaging/CMakeLists.txt), looked up like every test tool (tests/tools.cmake).
# systemd-analyze, promtool, curl and shellcheck are looked up there already.
elb_test_program(ELB_CPACK_RPMBUILD NAMES rpmbuild PACKAGE rpm FOR package_build)
elb_test_program(ELB_DPKG_SHLIBDEPS NAMES dpkg-shlibdeps PACKAGE dpkg-dev FOR package_build)
elb_test_program(ELB_FILE NAMES file PACKAGE file FOR package_build package_contents)
elb_test_program(ELB_LINTIAN NAMES lintian PACKAGE lintian FOR package_contents)
elb_test_program(ELB_READELF NAMES readelf PACKAGE binutils FOR package_contents)
elb_test_program(ELB_GROFF NAMES groff PACKAGE groff-base FOR man_page)
elb_test_program(ELB_ADDUSER NAMES adduser PACKAGE adduser FOR package_install)
elb_test_program(ELB_UNSHARE NAMES unshare PACKAGE util-linux FOR package_install)

# python3 with PyYAML, for the manifest checks.
_elb_test_package(python3-yaml)
set(ELB_PYTHON3_YAML FALSE)
find_program(ELB_PYTHON3 NAMES python3)
if(ELB_PYTHON3 AND NOT "python3-yaml" IN_LIST ELB_FAKE_MISSING)
  execute_process(COMMAND ${ELB_PYTHON3} -c "import yaml" RESULT_VARIABLE rc OUTPUT_QUIET ERROR_QUIET)
  if(rc EQUAL 0)
    set(ELB_PYTHON3_YAML TRUE)
  endif()
endif()
if(NOT ELB_PYTHON3_YAML)
  _elb_test_missing_package("python3-yaml" "python3-yaml" "kubernetes_manifests;dockerfile")
endif()

# Not a package: the install test installs the packages into a throw-away overlay of this
# machine, which takes root (a mount namespace, overlayfs, chroot).
set(ELB_OVERLAY_ROOT FALSE)
if(ELB_UNSHARE AND NOT "overlay-root" IN_LIST ELB_FAKE_MISSING)
  set(dir ${CMAKE_CURRENT_BINARY_DIR}/overlay-check)
  file(MAKE_DIRECTORY ${dir}/lower ${dir}/upper ${dir}/work ${dir}/merged)
  execute_process(COMMAND ${ELB_UNSHARE} --mount --propagation private -- sh -c
                          "mount -t overlay overlay -o lowerdir=${dir}/lower,upperdir=${dir}/upper,workdir=${dir}/work ${dir}/merged"
                  RESULT_VARIABLE rc OUTPUT_QUIET ERROR_QUIET)
  if(rc EQUAL 0)
    set(ELB_OVERLAY_ROOT TRUE)
  endif()
  file(REMOVE_RECURSE ${dir})
endif()
if(NOT ELB_OVERLAY_ROOT)
  elb_test_missing("overlay-root" "run the tests as root, e.g. sudo packaging/dev.sh test"
                   package_install)
endif()
