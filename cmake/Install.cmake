# Install.cmake - what `cmake --install` puts where, and the CPack .deb.
#   bin/churnwatchd, bin/churnwatch                   the programs (daemon/CMakeLists.txt)
#   /etc/churnwatch/churnwatch.yaml                   the default config (CW_CONFIG_INSTALL_DIR);
#                                                     absolute because the programs and the unit
#                                                     read /etc/churnwatch by default; an existing
#                                                     file is kept (the new one lands next to it
#                                                     as churnwatch.yaml.dist)
#   lib/systemd/system/churnwatchd.service            the unit, ExecStart= at this prefix's bin
#   share/man/man8/churnwatchd.8, man1/churnwatch.1   the man pages
#   share/doc/churnwatch/                             README, docs/*.md and docs/images/
#   share/bash-completion/completions/churnwatch      deploy/completion/churnwatch.bash
# The .deb (prefix /usr; /etc/churnwatch/churnwatch.yaml is a conffile):
#   (cd build && cpack -G DEB -D CPACK_PACKAGING_INSTALL_PREFIX=/usr)
# or configure with -DCMAKE_INSTALL_PREFIX=/usr and run plain `cpack -G DEB`. It adds what
# Debian policy asks of a package (cmake/DebianPackageTree.cmake: copyright, changelog,
# lintian overrides, compressed man pages and docs) and the maintainer scripts of
# deploy/debian (systemd daemon-reload, restart on upgrade, stop on removal, purge).
include(GNUInstallDirs)

set(CW_CONFIG_INSTALL_DIR "/etc/churnwatch" CACHE PATH "Where the default config is installed")

install(CODE "
  set(cw_dest \"${CW_CONFIG_INSTALL_DIR}\") # file(INSTALL) prefixes DESTDIR itself
  if(EXISTS \"\$ENV{DESTDIR}\${cw_dest}/churnwatch.yaml\")
    message(STATUS \"Keeping: \$ENV{DESTDIR}\${cw_dest}/churnwatch.yaml (new default as churnwatch.yaml.dist)\")
    file(INSTALL \"${PROJECT_SOURCE_DIR}/conf/churnwatch.yaml\" DESTINATION \"\${cw_dest}\"
         RENAME churnwatch.yaml.dist PERMISSIONS OWNER_READ OWNER_WRITE GROUP_READ WORLD_READ)
  else()
    file(INSTALL \"${PROJECT_SOURCE_DIR}/conf/churnwatch.yaml\" DESTINATION \"\${cw_dest}\"
         PERMISSIONS OWNER_READ OWNER_WRITE GROUP_READ WORLD_READ)
  endif()
")

# The unit names /usr/bin/churnwatchd; point it at the install prefix chosen at install time.
install(CODE "
  file(READ \"${PROJECT_SOURCE_DIR}/deploy/systemd/churnwatchd.service\" cw_unit)
  string(REPLACE \"/usr/bin/churnwatchd\" \"\${CMAKE_INSTALL_PREFIX}/${CMAKE_INSTALL_BINDIR}/churnwatchd\"
         cw_unit \"\${cw_unit}\")
  file(WRITE \"${PROJECT_BINARY_DIR}/install/churnwatchd.service\" \"\${cw_unit}\")
")
install(FILES ${PROJECT_BINARY_DIR}/install/churnwatchd.service DESTINATION lib/systemd/system)

configure_file(${PROJECT_SOURCE_DIR}/man/churnwatchd.8 ${PROJECT_BINARY_DIR}/man/churnwatchd.8 @ONLY)
configure_file(${PROJECT_SOURCE_DIR}/man/churnwatch.1 ${PROJECT_BINARY_DIR}/man/churnwatch.1 @ONLY)
install(FILES ${PROJECT_BINARY_DIR}/man/churnwatchd.8 DESTINATION ${CMAKE_INSTALL_MANDIR}/man8)
install(FILES ${PROJECT_BINARY_DIR}/man/churnwatch.1 DESTINATION ${CMAKE_INSTALL_MANDIR}/man1)

install(FILES ${PROJECT_SOURCE_DIR}/deploy/completion/churnwatch.bash
        DESTINATION ${CMAKE_INSTALL_DATADIR}/bash-completion/completions RENAME churnwatch)

file(GLOB CW_DOCS CONFIGURE_DEPENDS ${PROJECT_SOURCE_DIR}/docs/*.md)
install(FILES ${PROJECT_SOURCE_DIR}/README.md ${CW_DOCS} DESTINATION ${CMAKE_INSTALL_DOCDIR})
# the screenshots docs/console.md shows, where its relative links find them
file(GLOB CW_DOC_IMAGES CONFIGURE_DEPENDS ${PROJECT_SOURCE_DIR}/docs/images/*.png)
install(FILES ${CW_DOC_IMAGES} DESTINATION ${CMAKE_INSTALL_DOCDIR}/images)

# CPack: a Debian package; Depends from dpkg-shlibdeps plus what the programs exec or read.
set(CPACK_PACKAGE_NAME churnwatch)
set(CPACK_PACKAGE_VENDOR churnwatch)
set(CPACK_PACKAGE_CONTACT "churnwatch maintainers <churnwatch@localhost>")
set(CPACK_PACKAGE_DESCRIPTION_SUMMARY "streaming health-score and churn-alert daemon")
set(CPACK_PACKAGE_DESCRIPTION
    "churnwatchd consumes product-usage events from Kafka, keeps per-account
aggregates in Redis, scores accounts and publishes firing/resolved churn
alerts to Kafka. churnwatch explains scores and manages silences.")
set(CPACK_PACKAGE_VERSION ${PROJECT_VERSION})
set(CPACK_PACKAGING_INSTALL_PREFIX ${CMAKE_INSTALL_PREFIX})
set(CPACK_DEBIAN_FILE_NAME DEB-DEFAULT)
set(CPACK_DEBIAN_PACKAGE_SECTION net)
set(CPACK_DEBIAN_PACKAGE_SHLIBDEPS ON)
set(CPACK_DEBIAN_PACKAGE_DEPENDS "tzdata")
set(CPACK_DEBIAN_PACKAGE_SUGGESTS "redis-server (>= 7), bash-completion")
set(CPACK_STRIP_FILES ON)
file(WRITE ${PROJECT_BINARY_DIR}/install/conffiles "${CW_CONFIG_INSTALL_DIR}/churnwatch.yaml\n")
set(CPACK_DEBIAN_PACKAGE_CONTROL_EXTRA
    ${PROJECT_BINARY_DIR}/install/conffiles ${PROJECT_SOURCE_DIR}/deploy/debian/postinst
    ${PROJECT_SOURCE_DIR}/deploy/debian/prerm ${PROJECT_SOURCE_DIR}/deploy/debian/postrm)
set(CPACK_DEBIAN_PACKAGE_CONTROL_STRICT_PERMISSION ON) # scripts 0755, the rest 0644
# The staged tree finished like debhelper would (cmake/DebianPackageTree.cmake); the unit's
# Documentation= names operations.md, so that one stays uncompressed.
find_program(CW_GZIP gzip REQUIRED)
set(CPACK_PRE_BUILD_SCRIPTS ${PROJECT_SOURCE_DIR}/cmake/DebianPackageTree.cmake)
set(CPACK_CW_DEBIAN_DIR ${PROJECT_SOURCE_DIR}/deploy/debian)
set(CPACK_CW_GZIP ${CW_GZIP})
set(CPACK_CW_STRIP ${CMAKE_STRIP})
set(CPACK_CW_UNCOMPRESSED_DOCS operations.md)
include(CPack)
