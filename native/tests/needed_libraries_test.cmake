# The shared library's NEEDED entries (readelf -d): only the C/C++ runtime and the loader, never libcublas, libcudart
# or libcuda. cuBLAS is loaded at first use (src/cublas/cublas_library.cpp), the CUDA runtime is linked statically and
# loads the driver itself, so a machine with only the NVIDIA driver can load the library.
#   cmake -DGG_LIBRARY=<path to libgroupedgemm.so> -DGG_READELF=<readelf> -P needed_libraries_test.cmake
cmake_minimum_required(VERSION 3.20)
execute_process(COMMAND "${GG_READELF}" -d "${GG_LIBRARY}" OUTPUT_VARIABLE dynamic RESULT_VARIABLE rc)
if(NOT rc EQUAL 0)
  message(FATAL_ERROR "readelf -d ${GG_LIBRARY} failed (${rc})")
endif()
string(REGEX MATCHALL "\\(NEEDED\\)[^\n]*\\[([^]\n]+)\\]" entries "${dynamic}")
set(needed "")
foreach(entry IN LISTS entries)
  string(REGEX REPLACE ".*\\[([^]]+)\\].*" "\\1" name "${entry}")
  list(APPEND needed "${name}")
endforeach()
message(STATUS "NEEDED: ${needed}")
if(NOT needed)
  message(FATAL_ERROR "no NEEDED entries read from ${GG_LIBRARY}: is it a shared library?")
endif()
set(allowed "^(libc|libm|libdl|librt|libpthread|libstdc\\+\\+|libgcc_s|ld-linux-x86-64)\\.so")
foreach(name IN LISTS needed)
  if(NOT name MATCHES "${allowed}")
    message(SEND_ERROR "FAIL: ${GG_LIBRARY} needs ${name} at load time; only the C/C++ runtime may be NEEDED "
      "(cuBLAS is loaded at first use, the CUDA runtime is static)")
  endif()
endforeach()
