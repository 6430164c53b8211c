# Sourced by build-native.sh and check-sm90.sh: finds the CUDA compiler and the host compiler it accepts.
# Sets `nvcc` (CUDACXX, else /usr/local/cuda/bin/nvcc, else nvcc on PATH; exits 2 if none), `release` (the
# toolkit's major version) and `host_compiler` (clang-14 where CUDA 11.x's nvcc rejects Debian 12's g++ 12,
# else empty: nvcc's default).
nvcc=${CUDACXX:-}
if [[ -z "$nvcc" ]]; then
  for c in /usr/local/cuda/bin/nvcc "$(command -v nvcc || true)"; do
    [[ -n "$c" && -x "$c" ]] && { nvcc=$c; break; }
  done
fi
if [[ -z "$nvcc" ]]; then
  echo "error: no CUDA compiler (nvcc) found. Install the CUDA toolkit (Debian 12: apt-get install nvidia-cuda-toolkit from non-free) or set CUDACXX." >&2
  exit 2
fi
release=$("$nvcc" --version | sed -n 's/.*release \([0-9]*\)\.\([0-9]*\).*/\1/p')
host_compiler=
if [[ "${release:-99}" -lt 12 ]] && command -v clang-14 >/dev/null; then
  host_compiler=clang-14
fi
