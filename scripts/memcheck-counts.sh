# memcheck_counts FILE: the counts a memcheck part's output ends with, on one line: the .NET suite's "total:",
# "failed:", "succeeded:" and "skipped:" lines, gmm_parity.py's "parity:" and "memory at the end:" lines and
# fp8_parity.py's "N checked, M failed". Sourced by scripts/gpu-host.sh (memcheck_report).
#
# The suite's own names are matched at a line's start only: its bad-input tests print the library's messages, such as
# "GroupedGemm native call failed: InvalidCounts: ...", which a bare "failed:" took for a count (the 0.14.0 release's
# memcheck.txt line of a part that timed out was those messages, cut at 200 characters).
memcheck_counts() {
  grep -hE "^\s*(total|failed|succeeded|skipped):|^parity:|^memory at the end:| checked, " "$1" 2>/dev/null \
    | tr '\n' ' ' | tr -s ' ' | sed 's/^ //; s/ $//'
}
