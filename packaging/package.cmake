# Included by the top-level CMakeLists.txt: the man page, the install rules and CPack's .deb
# and .rpm. One file list serves `cmake --install`, both packages and the container (whose
# Dockerfile installs the .deb), and the tests compare them (tests/packaging/).
#
#   cmake --build build && (cd build && cpack -G "DEB;RPM")   # or: packaging/dev.sh package
#
# What the packages hold (prefix /usr; /etc for the prefix /usr, PREFIX/etc otherwise):
#   /usr/bin/elb_job_exporter
#   /usr/share/man/man1/elb_job_exporter.1.gz           built from packaging/elb_job_exporter.1.scd
#   /usr/share/doc/elb-job-exporter/copyright, changelog.Debian.gz
#   /usr/lib/systemd/system/elb_job_exporter.service
#   /etc/elb_job_exporter/config.yml, jobs               conffiles (%config(noreplace))
#   /etc/default/elb_job_exporter                        conffile, mode 0640
# and the maintainer scripts in packaging/deb/ and packaging/rpm/ (system user, state
# directory /var/lib/elb_job_exporter, the unit's state).

set(ELB_PKG ${CMAKE_SOURCE_DIR}/packaging)
set(ELB_PKG_NAME elb-job-exporter) # Debian names take no underscore; the binary keeps it

# The first entry of the Debian changelog gives the package's revision and its maintainer,
# so that neither is written twice. Its upstream version must be the project's
# (tests/packaging/package_check.sh checks the .deb's).
file(STRINGS ${ELB_PKG}/changelog ELB_CHANGELOG_TOP LIMIT_COUNT 1)
file(STRINGS ${ELB_PKG}/changelog ELB_CHANGELOG_SIGNOFF REGEX "^ -- " LIMIT_COUNT 1)
if(NOT ELB_CHANGELOG_TOP MATCHES "^${ELB_PKG_NAME} \\(([^)-]+)-([0-9]+)\\) "
   OR NOT ELB_CHANGELOG_SIGNOFF MATCHES "^ -- (.+ <[^>]+>)  ")
  message(FATAL_ERROR "packaging/changelog: the first entry must read "
                      "'${ELB_PKG_NAME} (VERSION-REVISION) ...' and end with ' -- NAME <MAIL>  DATE'")
endif()
string(REGEX MATCH "^${ELB_PKG_NAME} \\(([^)-]+)-([0-9]+)\\)" _ "${ELB_CHANGELOG_TOP}")
set(ELB_PKG_UPSTREAM_VERSION ${CMAKE_MATCH_1})
set(ELB_PKG_REVISION ${CMAKE_MATCH_2})
string(REGEX MATCH "^ -- (.+ <[^>]+>)  " _ "${ELB_CHANGELOG_SIGNOFF}")
set(ELB_PKG_MAINTAINER "${CMAKE_MATCH_1}")

# Reproducible output: gzip -n drops names and times, and scdoc dates the page from
# SOURCE_DATE_EPOCH, the time of the commit built (else the time of configuration).
execute_process(COMMAND git log -1 --format=%ct
                WORKING_DIRECTORY ${CMAKE_SOURCE_DIR}
                OUTPUT_VARIABLE ELB_SOURCE_DATE_EPOCH OUTPUT_STRIP_TRAILING_WHITESPACE
                ERROR_QUIET)
if(NOT ELB_SOURCE_DATE_EPOCH MATCHES "^[0-9]+$")
  string(TIMESTAMP ELB_SOURCE_DATE_EPOCH "%s" UTC)
endif()

# ---- the man page: scdoc source -> roff -> gzip -9n ----
find_program(ELB_SCDOC scdoc)
find_program(ELB_GZIP gzip)
if(NOT ELB_SCDOC OR NOT ELB_GZIP)
  message(FATAL_ERROR "the man page is built with scdoc and gzip: apt-get install scdoc gzip "
                      "(packaging/dev.sh deps installs them)")
endif()
set(ELB_MAN_DIR ${CMAKE_BINARY_DIR}/packaging)
configure_file(${ELB_PKG}/elb_job_exporter.1.scd ${ELB_MAN_DIR}/elb_job_exporter.1.scd @ONLY)
add_custom_command(
  OUTPUT ${ELB_MAN_DIR}/elb_job_exporter.1
  COMMAND ${CMAKE_COMMAND} -E env SOURCE_DATE_EPOCH=${ELB_SOURCE_DATE_EPOCH}
          sh -c "'${ELB_SCDOC}' < elb_job_exporter.1.scd > elb_job_exporter.1.tmp"
  COMMAND ${CMAKE_COMMAND} -E rename elb_job_exporter.1.tmp elb_job_exporter.1
  DEPENDS ${ELB_MAN_DIR}/elb_job_exporter.1.scd
  WORKING_DIRECTORY ${ELB_MAN_DIR}
  COMMENT "scdoc: elb_job_exporter(1)"
  VERBATIM)
# gzip -9n FILE.gz from FILE (kept): *_gz(OUT IN).
function(elb_gzip out in)
  add_custom_command(OUTPUT ${out}
                     COMMAND sh -c "'${ELB_GZIP}' -9nc '${in}' > '${out}.tmp'"
                     COMMAND ${CMAKE_COMMAND} -E rename ${out}.tmp ${out}
                     DEPENDS ${in} VERBATIM)
endfunction()
elb_gzip(${ELB_MAN_DIR}/elb_job_exporter.1.gz ${ELB_MAN_DIR}/elb_job_exporter.1)
elb_gzip(${ELB_MAN_DIR}/changelog.Debian.gz ${ELB_PKG}/changelog)
add_custom_target(elb_man ALL
                  DEPENDS ${ELB_MAN_DIR}/elb_job_exporter.1.gz ${ELB_MAN_DIR}/changelog.Debian.gz)

# ---- the shipped binary's hardening (Debian's dpkg-buildflags defaults that CMake lacks) ----
# Fortified libc calls where the compiler optimises (not in Debug, where _FORTIFY_SOURCE only
# warns, nor under the sanitizers, which replace those calls), and a read-only GOT (relro,
# bindnow). Only the daemon: the tests build as they always have.
if(NOT ELB_SANITIZE AND NOT ELB_TSAN)
  target_compile_options(elb_job_exporter PRIVATE
    "$<$<NOT:$<CONFIG:Debug>>:-U_FORTIFY_SOURCE;-D_FORTIFY_SOURCE=2>")
  target_link_options(elb_job_exporter PRIVATE "LINKER:-z,relro,-z,now")
endif()

# ---- install rules ----
install(FILES ${ELB_MAN_DIR}/elb_job_exporter.1.gz DESTINATION share/man/man1)
install(FILES ${ELB_PKG}/copyright ${ELB_MAN_DIR}/changelog.Debian.gz
        DESTINATION share/doc/${ELB_PKG_NAME})
install(FILES ${ELB_PKG}/deb/lintian-overrides DESTINATION share/lintian/overrides
        RENAME ${ELB_PKG_NAME})
# The unit, the configuration and the defaults file name /usr/bin and /etc. Installed with
# another prefix (cmake --install build --prefix /usr/local) they name PREFIX/bin and
# PREFIX/etc instead; the prefix is only known at install time (CPack installs with /usr).
install(CODE "set(ELB_PKG \"${ELB_PKG}\")\nset(ELB_STAGING \"${ELB_MAN_DIR}/install_etc\")")
install(SCRIPT ${ELB_PKG}/install_etc.cmake)

# ---- CPack: .deb and .rpm ----
set(CPACK_PACKAGE_NAME ${ELB_PKG_NAME})
set(CPACK_PACKAGE_VENDOR "elb_job_exporter")
set(CPACK_PACKAGE_CONTACT "${ELB_PKG_MAINTAINER}")
set(CPACK_PACKAGE_VERSION ${PROJECT_VERSION})
set(CPACK_PACKAGE_DESCRIPTION_SUMMARY "Prometheus exporter for cloud asynchronous jobs (OTC, Huawei Cloud)")
# Lines of at most 80 columns: CPack copies them into the control file as they are.
string(CONCAT CPACK_PACKAGE_DESCRIPTION
       "elb_job_exporter polls the asynchronous jobs that operations of Open Telekom\n"
       "Cloud and Huawei Cloud return (creating a load balancer, adding backend\n"
       "members, ...) and serves their status, durations and error codes as\n"
       "Prometheus metrics, so that a dashboard shows every job and an alert fires\n"
       "the moment one fails.\n"
       "\n"
       "The package ships a hardened systemd unit (not enabled until configured),\n"
       "an example configuration, a defaults file for credentials and the man page.")
set(CPACK_PACKAGING_INSTALL_PREFIX /usr)
set(CPACK_STRIP_FILES ON)
set(CPACK_GENERATOR "DEB;RPM")
set(CPACK_SOURCE_GENERATOR "TGZ")
set(CPACK_SOURCE_IGNORE_FILES "/\\\\.git/" "/build[^/]*/" "/tests/fuzz/corpus-work/")

set(CPACK_DEBIAN_PACKAGE_RELEASE ${ELB_PKG_REVISION})
set(CPACK_DEBIAN_FILE_NAME DEB-DEFAULT)
set(CPACK_DEBIAN_PACKAGE_SECTION net)
set(CPACK_DEBIAN_PACKAGE_PRIORITY optional)
# Shared libraries are computed by dpkg-shlibdeps; adduser is what postinst runs.
set(CPACK_DEBIAN_PACKAGE_SHLIBDEPS ON)
set(CPACK_DEBIAN_PACKAGE_DEPENDS "adduser")
set(CPACK_DEBIAN_PACKAGE_SUGGESTS "prometheus")
set(CPACK_DEBIAN_PACKAGE_CONTROL_EXTRA
    ${ELB_PKG}/deb/postinst ${ELB_PKG}/deb/prerm ${ELB_PKG}/deb/postrm ${ELB_PKG}/deb/conffiles)
set(CPACK_DEBIAN_PACKAGE_CONTROL_STRICT_PERMISSION ON)

set(CPACK_RPM_PACKAGE_RELEASE ${ELB_PKG_REVISION})
set(CPACK_RPM_FILE_NAME RPM-DEFAULT)
set(CPACK_RPM_PACKAGE_LICENSE "LicenseRef-unspecified")
set(CPACK_RPM_PACKAGE_GROUP "System Environment/Daemons")
set(CPACK_PACKAGE_RELOCATABLE OFF)
set(CPACK_RPM_PACKAGE_REQUIRES_PRE "shadow-utils")
set(CPACK_RPM_PRE_INSTALL_SCRIPT_FILE ${ELB_PKG}/rpm/pre)
set(CPACK_RPM_POST_INSTALL_SCRIPT_FILE ${ELB_PKG}/rpm/post)
set(CPACK_RPM_PRE_UNINSTALL_SCRIPT_FILE ${ELB_PKG}/rpm/preun)
set(CPACK_RPM_POST_UNINSTALL_SCRIPT_FILE ${ELB_PKG}/rpm/postun)
# Directories other packages own are not this one's; /etc files are %config(noreplace).
set(CPACK_RPM_EXCLUDE_FROM_AUTO_FILELIST_ADDITION
    /etc/default /usr/lib/systemd /usr/lib/systemd/system /usr/share/man /usr/share/man/man1)
set(CPACK_RPM_USER_FILELIST
    "%config(noreplace) /etc/elb_job_exporter/config.yml"
    "%config(noreplace) /etc/elb_job_exporter/jobs"
    "%config(noreplace) %attr(0640,root,root) /etc/default/elb_job_exporter")
set(CPACK_RPM_SPEC_MORE_DEFINE "%define _build_id_links none")

include(CPack)

# ---- Kubernetes: the PrometheusRule made from dashboards/alerts.yml ----
# build/kubernetes/prometheusrule.yaml, beside the manifests of packaging/kubernetes/.
add_custom_command(
  OUTPUT ${CMAKE_BINARY_DIR}/kubernetes/prometheusrule.yaml
  COMMAND ${CMAKE_COMMAND} -E make_directory ${CMAKE_BINARY_DIR}/kubernetes
  COMMAND sh -c "bash '${ELB_PKG}/kubernetes/prometheusrule.sh' '${CMAKE_SOURCE_DIR}/dashboards/alerts.yml' > '${CMAKE_BINARY_DIR}/kubernetes/prometheusrule.yaml.tmp'"
  COMMAND ${CMAKE_COMMAND} -E rename ${CMAKE_BINARY_DIR}/kubernetes/prometheusrule.yaml.tmp
          ${CMAKE_BINARY_DIR}/kubernetes/prometheusrule.yaml
  DEPENDS ${ELB_PKG}/kubernetes/prometheusrule.sh ${CMAKE_SOURCE_DIR}/dashboards/alerts.yml
  COMMENT "PrometheusRule from dashboards/alerts.yml"
  VERBATIM)
add_custom_target(elb_kubernetes ALL DEPENDS ${CMAKE_BINARY_DIR}/kubernetes/prometheusrule.yaml)
