# DebianPackageTree.cmake - CPack's pre-build step for the .deb (CPACK_PRE_BUILD_SCRIPTS):
# it finishes the staged tree the way debhelper would before the package is packed, so the
# .deb meets Debian policy while `cmake --install` keeps plain files:
#   /usr/share/doc/<pkg>/copyright          deploy/debian/copyright (DEP-5)
#   /usr/share/doc/<pkg>/changelog.gz       deploy/debian/changelog.in at the package version
#                                           (a native package: changelog.gz, not .Debian.gz)
#   /usr/share/lintian/overrides/<pkg>      deploy/debian/<pkg>.lintian-overrides
#   man pages                               gzip -9n (dh_compress)
#   docs above 4 kB                         gzip -9n, except CPACK_CW_UNCOMPRESSED_DOCS
#   /usr/bin programs                       .comment and .note sections removed (dh_strip;
#                                           CPACK_STRIP_FILES has stripped them already)
# Inputs from cmake/Install.cmake: CPACK_CW_DEBIAN_DIR, CPACK_CW_GZIP, CPACK_CW_STRIP,
# CPACK_CW_UNCOMPRESSED_DOCS. The changelog's date is SOURCE_DATE_EPOCH when it is set.
cmake_policy(VERSION 3.25)
if(NOT CPACK_GENERATOR STREQUAL "DEB")
  return()
endif()
if(NOT CPACK_PACKAGING_INSTALL_PREFIX STREQUAL "/usr")
  message(FATAL_ERROR "a Debian package installs to /usr, not '${CPACK_PACKAGING_INSTALL_PREFIX}': "
                      "configure with -DCMAKE_INSTALL_PREFIX=/usr, "
                      "or run cpack -G DEB -D CPACK_PACKAGING_INSTALL_PREFIX=/usr")
endif()

set(cw_root "${CPACK_TEMPORARY_DIRECTORY}")
set(cw_pkg "${CPACK_PACKAGE_NAME}")
set(cw_doc "${cw_root}/usr/share/doc/${cw_pkg}")

# gzip -9n: best compression, no original name or time stamp (reproducible), as dh_compress.
function(cw_gzip file)
  execute_process(COMMAND "${CPACK_CW_GZIP}" -9nf "${file}" RESULT_VARIABLE rc)
  if(NOT rc EQUAL 0)
    message(FATAL_ERROR "gzip -9n ${file} failed (${rc})")
  endif()
endfunction()

# A file of the package from deploy/debian, mode 0644.
function(cw_add_file from to)
  get_filename_component(dir "${to}" DIRECTORY)
  file(MAKE_DIRECTORY "${dir}")
  file(COPY_FILE "${from}" "${to}")
  file(CHMOD "${to}" PERMISSIONS OWNER_READ OWNER_WRITE GROUP_READ WORLD_READ)
endfunction()

cw_add_file("${CPACK_CW_DEBIAN_DIR}/copyright" "${cw_doc}/copyright")
cw_add_file("${CPACK_CW_DEBIAN_DIR}/${cw_pkg}.lintian-overrides"
            "${cw_root}/usr/share/lintian/overrides/${cw_pkg}")

string(TIMESTAMP CW_CHANGELOG_DATE "%a, %d %b %Y %H:%M:%S +0000" UTC)
configure_file("${CPACK_CW_DEBIAN_DIR}/changelog.in" "${cw_doc}/changelog" @ONLY)
file(CHMOD "${cw_doc}/changelog" PERMISSIONS OWNER_READ OWNER_WRITE GROUP_READ WORLD_READ)
cw_gzip("${cw_doc}/changelog")

file(GLOB cw_man_pages "${cw_root}/usr/share/man/man*/*")
foreach(page IN LISTS cw_man_pages)
  if(NOT page MATCHES "\\.gz$")
    cw_gzip("${page}")
  endif()
endforeach()

file(GLOB cw_docs LIST_DIRECTORIES false "${cw_doc}/*") # images/ stays as it is
foreach(doc IN LISTS cw_docs)
  get_filename_component(name "${doc}" NAME)
  file(SIZE "${doc}" size)
  if(size GREATER 4096 AND NOT name MATCHES "\\.gz$" AND NOT name STREQUAL "copyright"
     AND NOT name IN_LIST CPACK_CW_UNCOMPRESSED_DOCS)
    cw_gzip("${doc}")
  endif()
endforeach()

file(GLOB cw_programs "${cw_root}/usr/bin/*")
foreach(program IN LISTS cw_programs)
  execute_process(COMMAND "${CPACK_CW_STRIP}" --remove-section=.comment --remove-section=.note
                          "${program}" RESULT_VARIABLE rc)
  if(NOT rc EQUAL 0)
    message(FATAL_ERROR "strip --remove-section=.comment ${program} failed (${rc})")
  endif()
endforeach()
