# Which cutlass-sm90 kernel files a build compiles (GG_SM90_KERNELS in native/CMakeLists.txt).
#
# Each kernel is one file, src/cutlass_sm90/sm90_<dtype>_<operands>_<tile>[_store].cu, holding one
# GG_SM90_INSTANTIATE(dtype, operands, tile, epilogue) line. A full build compiles all of them (about six minutes on
# a 16-core GPU host); an experiment that measures one tile needs two. The backend learns which ones were kept from
# a generated X-macro list, so that a call needing a kernel left out fails with a status instead of a link error.
#
# gg_sm90_select_kernels(SOURCES <files> PATTERNS <regexes> OUT_SOURCES <var> OUT_LIST <var> OUT_KEPT <var>
#                        OUT_ALL <var> OUT_ERROR <var>)
#   SOURCES      every .cu file of src/cutlass_sm90; files not named sm90_* (the backend, shims) are always kept
#   PATTERNS     regular expressions matched against <dtype>_<operands>_<tile>[_store]; none: keep every kernel
#   OUT_SOURCES  the files to compile
#   OUT_LIST     " X(dtype, operands, tile, epilogue)" for each kept kernel, for sm90_kernel_list.h.in
#   OUT_KEPT, OUT_ALL  kernel counts, kept and in all
#   OUT_ERROR    empty, or why the selection cannot be built (a pattern that matches nothing, a malformed file)
function(gg_sm90_select_kernels)
  cmake_parse_arguments(arg "" "OUT_SOURCES;OUT_LIST;OUT_KEPT;OUT_ALL;OUT_ERROR" "SOURCES;PATTERNS" ${ARGN})
  set(kept "")
  set(x_list "")
  set(n_kept 0)
  set(n_all 0)
  set(error "")
  set(used_patterns "")
  foreach(src IN LISTS arg_SOURCES)
    get_filename_component(stem "${src}" NAME_WE)
    if(NOT stem MATCHES "^sm90_")
      list(APPEND kept "${src}")
      continue()
    endif()
    math(EXPR n_all "${n_all} + 1")
    string(REGEX REPLACE "^sm90_" "" name "${stem}")
    set(keep FALSE)
    if(NOT arg_PATTERNS)
      set(keep TRUE)
    endif()
    foreach(pattern IN LISTS arg_PATTERNS)
      if(name MATCHES "${pattern}")
        set(keep TRUE)
        list(APPEND used_patterns "${pattern}")
      endif()
    endforeach()
    if(NOT keep)
      continue()
    endif()
    file(STRINGS "${src}" instantiations REGEX "^GG_SM90_INSTANTIATE\\(.*\\)")
    list(LENGTH instantiations count)
    if(NOT count EQUAL 1)
      set(error "${src} has ${count} GG_SM90_INSTANTIATE(...) lines; a kernel file needs exactly one")
      break()
    endif()
    string(REGEX REPLACE "^GG_SM90_INSTANTIATE" "X" item "${instantiations}")
    string(APPEND x_list " ${item}")
    list(APPEND kept "${src}")
    math(EXPR n_kept "${n_kept} + 1")
  endforeach()
  if(NOT error)
    foreach(pattern IN LISTS arg_PATTERNS)
      if(NOT pattern IN_LIST used_patterns)
        set(error "GG_SM90_KERNELS: '${pattern}' matches no kernel file (names are <dtype>_<operands>_<tile>[_store], e.g. bf16_forward_coop256x128_store)")
        break()
      endif()
    endforeach()
  endif()
  set(${arg_OUT_SOURCES} "${kept}" PARENT_SCOPE)
  set(${arg_OUT_LIST} "${x_list}" PARENT_SCOPE)
  set(${arg_OUT_KEPT} "${n_kept}" PARENT_SCOPE)
  set(${arg_OUT_ALL} "${n_all}" PARENT_SCOPE)
  set(${arg_OUT_ERROR} "${error}" PARENT_SCOPE)
endfunction()
