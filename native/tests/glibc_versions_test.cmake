# The glibc symbol versions libgroupedgemm.so asks the loader for: none newer than GLIBC_2.34, so that the release
# library, built on a GPU host with a newer glibc, loads on every distribution CUDA 13 supports from RHEL 9, Ubuntu
# 22.04 and Debian 12 on (src/core/glibc_compat.cpp keeps the newer ones out).
#   cmake -DGG_LIBRARY=<path to libgroupedgemm.so> -DGG_OBJDUMP=<objdump> -P glibc_versions_test.cmake
cmake_minimum_required(VERSION 3.20)
set(max_allowed "2.34")
execute_process(COMMAND "${GG_OBJDUMP}" -T "${GG_LIBRARY}" OUTPUT_VARIABLE symbols RESULT_VARIABLE rc)
if(NOT rc EQUAL 0)
  message(FATAL_ERROR "objdump -T ${GG_LIBRARY} failed (${rc})")
endif()
string(REGEX MATCHALL "\\(GLIBC_[0-9.]+\\)[ \t]+[A-Za-z0-9_]+" uses "${symbols}")
set(newest "0")
foreach(use IN LISTS uses)
  string(REGEX REPLACE "\\(GLIBC_([0-9.]+)\\).*" "\\1" version "${use}")
  string(REGEX REPLACE ".*\\)[ \t]+" "" symbol "${use}")
  if(version VERSION_GREATER newest)
    set(newest "${version}")
  endif()
  if(version VERSION_GREATER max_allowed)
    message(SEND_ERROR "FAIL: ${GG_LIBRARY} needs ${symbol}@GLIBC_${version}, newer than GLIBC_${max_allowed}")
  endif()
endforeach()
message(STATUS "newest glibc symbol version needed: GLIBC_${newest}")
