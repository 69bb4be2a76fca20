# Hardening.cmake - the compile and link hardening of every build that can ship: the flags
# Debian's dpkg-buildflags gives a package with DEB_BUILD_MAINT_OPTIONS=hardening=+all,
# plus the two gcc 12 has but dpkg 1.21 does not pass yet (stack clash, CET):
#   position-independent executables   -fPIE / -pie (CMAKE_POSITION_INDEPENDENT_CODE)
#   stack protector                    -fstack-protector-strong
#   stack clash protection             -fstack-clash-protection
#   control-flow protection (x86 CET)  -fcf-protection, where the target has it
#   FORTIFY_SOURCE                     -D_FORTIFY_SOURCE=2, only when optimising (-O1 and
#                                      up: glibc's checks need it, and warn without)
#   read-only relocations, bind now    -Wl,-z,relro -Wl,-z,now
# The sanitizer builds (CMAKE_BUILD_TYPE=Asan, CW_FUZZ=ON) get PIE and nothing else: they are
# test builds, never shipped; ASan's redzones and interceptors check what the stack protector
# and FORTIFY would, and FORTIFY's __*_chk entry points would route around ASan's interceptors.
# tests/integration/deploy_package.sh checks the packaged binaries with hardening-check.
include(CheckCCompilerFlag)
include(CheckPIESupported)

set(CMAKE_POSITION_INDEPENDENT_CODE ON)
check_pie_supported(OUTPUT_VARIABLE cw_pie_error LANGUAGES C)
if(NOT CMAKE_C_LINK_PIE_SUPPORTED)
  message(FATAL_ERROR "the toolchain cannot link position-independent executables: ${cw_pie_error}")
endif()

if(CW_FUZZ OR CMAKE_BUILD_TYPE STREQUAL "Asan")
  message(STATUS "hardening: PIE only (a sanitizer build)")
  return()
endif()

set(cw_hardening_flags -fstack-protector-strong -fstack-clash-protection)
check_c_compiler_flag(-fcf-protection CW_HAVE_CF_PROTECTION)
if(CW_HAVE_CF_PROTECTION)
  list(APPEND cw_hardening_flags -fcf-protection)
endif()

string(TOUPPER "${CMAKE_BUILD_TYPE}" cw_build_type)
if("${CMAKE_C_FLAGS} ${CMAKE_C_FLAGS_${cw_build_type}}" MATCHES "-O([1-9sz]|fast)")
  # -U first: a toolchain that predefines another level (Ubuntu's gcc) gets exactly level 2
  list(APPEND cw_hardening_flags -U_FORTIFY_SOURCE -D_FORTIFY_SOURCE=2)
else()
  message(STATUS "hardening: no _FORTIFY_SOURCE (the ${CMAKE_BUILD_TYPE} build does not optimise)")
endif()

add_compile_options(${cw_hardening_flags})
add_link_options(LINKER:-z,relro LINKER:-z,now)
list(JOIN cw_hardening_flags " " cw_hardening_text)
message(STATUS "hardening: PIE ${cw_hardening_text} -Wl,-z,relro -Wl,-z,now")
