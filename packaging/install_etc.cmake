# Install-time part of packaging/package.cmake: the systemd unit, the example configuration,
# the jobs file and the defaults file. They name /usr/bin and /etc, right for the prefix /usr
# that the packages use; under any other prefix P (cmake --install build --prefix P) they go
# to P/lib/systemd/system and P/etc and name P/bin and P/etc instead. Set by the caller:
# ELB_PKG (the packaging/ directory) and ELB_STAGING (a scratch directory of the build).

if(CMAKE_INSTALL_PREFIX STREQUAL "/usr")
  set(etc /etc)
else()
  set(etc ${CMAKE_INSTALL_PREFIX}/etc)
endif()
set(bindir ${CMAKE_INSTALL_PREFIX}/bin)
set(staging ${ELB_STAGING})
file(MAKE_DIRECTORY ${staging})

# elb_place(SRC NAME): ELB_PKG/SRC with the paths of this prefix, as staging/NAME.
function(elb_place src name)
  file(READ ${ELB_PKG}/${src} text)
  string(REPLACE "/usr/bin/elb_job_exporter" "${bindir}/elb_job_exporter" text "${text}")
  string(REPLACE "/etc/elb_job_exporter/" "${etc}/elb_job_exporter/" text "${text}")
  string(REPLACE "/etc/default/elb_job_exporter" "${etc}/default/elb_job_exporter" text "${text}")
  file(WRITE ${staging}/${name} "${text}")
endfunction()

elb_place(elb_job_exporter.service elb_job_exporter.service)
elb_place(config.yml config.yml)
elb_place(jobs jobs)
elb_place(default elb_job_exporter)

set(rw_r__r__ OWNER_READ OWNER_WRITE GROUP_READ WORLD_READ)
file(INSTALL ${staging}/elb_job_exporter.service
     DESTINATION ${CMAKE_INSTALL_PREFIX}/lib/systemd/system FILE_PERMISSIONS ${rw_r__r__})
file(INSTALL ${staging}/config.yml ${staging}/jobs
     DESTINATION ${etc}/elb_job_exporter FILE_PERMISSIONS ${rw_r__r__})
# The defaults file may hold secrets: 0640.
file(INSTALL ${staging}/elb_job_exporter
     DESTINATION ${etc}/default FILE_PERMISSIONS OWNER_READ OWNER_WRITE GROUP_READ)
