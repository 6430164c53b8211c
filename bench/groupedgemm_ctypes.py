"""A small ctypes binding of libgroupedgemm.so's C ABI (native/include/groupedgemm/groupedgemm.h), for torch tensors.

Only what the PyTorch-side benchmark (bench/torch_baseline.py) and the parity script (native/tests/gmm_parity.py)
need: a handle, gg_gmm, backend selection and support queries, error text and build information. The library is
loaded lazily and nothing here imports torch at module level, so the module imports on a machine without either.

    from groupedgemm_ctypes import GroupedGemm, BACKEND_AUTO
    gg = GroupedGemm("artifacts/native/libgroupedgemm.so")
    gg.gmm(x, w, out, counts_int64_on_device)                  # forward: x[M,K] . w[E,K,N] -> out[M,N]
    gg.gmm(x, dy, dw, counts, trans_a=True)                     # weight gradient -> dw[E,K,N]
    gg.select_backend(x, w, out, counts)                        # "cutlass-sm90", ...

The enum values, constants and structs below mirror the header by hand; tests/GroupedGemm.Net.Tests/Interop/
PythonMirrorTests.cs fails when they drift from it. Backend names are not mirrored: they come from the library
(gg_backend_name), so that a new backend needs no edit here.
"""

from __future__ import annotations

import contextlib
import ctypes as C
import os

# gg_dtype
DTYPE_FLOAT32, DTYPE_FLOAT16, DTYPE_BFLOAT16 = 0, 1, 2
# gg_counts_location
COUNTS_HOST, COUNTS_DEVICE = 0, 1
# gg_backend: Auto only; the others by name from the library (backend_names)
BACKEND_AUTO = 0
# gg_status values the callers look at
STATUS_SUCCESS, STATUS_NOT_SUPPORTED, STATUS_BACKEND_NOT_COMPILED, STATUS_OUT_OF_MEMORY = 0, 2, 3, 6


class GmmArgs(C.Structure):
    """gg_gmm_args, field for field (enums are int32)."""

    _fields_ = [("a", C.c_void_p), ("b", C.c_void_p), ("c", C.c_void_p), ("batch_sizes", C.c_void_p),
                ("m", C.c_int64), ("k", C.c_int64), ("n", C.c_int64), ("num_experts", C.c_int64),
                ("dtype", C.c_int32), ("counts_location", C.c_int32), ("trans_a", C.c_int32),
                ("trans_b", C.c_int32), ("accumulate", C.c_int32), ("check_counts", C.c_int32),
                ("backend", C.c_int32), ("reserved", C.c_int32), ("stream", C.c_void_p)]


class BuildInfo(C.Structure):
    """gg_build_info."""

    _fields_ = [("abi_version", C.c_int32), ("cuda_toolkit_version", C.c_int32), ("cublas_version", C.c_int32),
                ("compiled_backends", C.c_int32), ("architecture_count", C.c_int32), ("reserved", C.c_int32)]


class GroupedGemmError(RuntimeError):
    """A failed call; `status` is the gg_status value."""

    def __init__(self, message: str, status: int):
        super().__init__(message)
        self.status = status


def build_manifest(path: str) -> dict:
    """The build manifest embedded in the library file (native/src/api/build_manifest.cpp), read from the file without
    loading it: {"version": ..., "backends": ..., "sm90-kernels": "release" | "experiment" | "tuning" | "none", ...};
    empty when the file has none."""
    import re

    with open(path, "rb") as f:
        found = re.search(rb"groupedgemm-build:([^\0]*?);end", f.read())
    if not found:
        return {}
    return dict(field.split("=", 1) for field in found.group(1).decode().split(";") if "=" in field)


def require_tuning_knobs(path: str, what: str) -> None:
    """Raises unless the library reads the cutlass-sm90 tuning knobs (GG_SM90_TILE, ...): a release build ignores them,
    so forced variants would silently run Auto's choice."""
    kernels = build_manifest(path).get("sm90-kernels")
    if kernels == "release":
        raise SystemExit(f"{what} forces cutlass-sm90 tuning knobs, which a release build ({path}) does not read: "
                         "build with GG_SM90_TUNING=1 (or an experiment build's GG_SM90_KERNELS)")


@contextlib.contextmanager
def knobs_set(knobs: dict):
    """The environment variables `knobs` (tuning knobs, which the library reads per call) set for the block, then as
    they were before it: a variant's calls run with its knobs, and every other call without them."""
    saved = {key: os.environ.get(key) for key in knobs}
    os.environ.update(knobs)
    try:
        yield
    finally:
        for key, value in saved.items():
            if value is None:
                os.environ.pop(key, None)
            else:
                os.environ[key] = value


def parse_sm90_knobs(text: str, lib_path: str, what: str = "--sm90-knobs") -> dict:
    """The cutlass-sm90 tuning knobs of a script's "GG_SM90_<NAME>=<value>[,...]" option as a dict, after checking that
    the library reads them (require_tuning_knobs); raises SystemExit naming a malformed item."""
    knobs = {}
    for item in (x for x in text.split(",") if x):
        key, sep, value = item.partition("=")
        if not sep or not key.startswith("GG_SM90_"):
            raise SystemExit(f"{what}: {item!r} is not GG_SM90_<NAME>=<value>")
        knobs[key] = value
    if knobs:
        require_tuning_knobs(lib_path, what)
    return knobs


def load(path: str):
    """Loads the library and declares the signatures used here."""
    lib = C.CDLL(path)
    lib.gg_status_string.restype = C.c_char_p
    lib.gg_status_string.argtypes = [C.c_int32]
    lib.gg_last_error_message.restype = C.c_char_p
    lib.gg_last_error_message.argtypes = []
    lib.gg_backend_name.restype = C.c_char_p
    lib.gg_backend_name.argtypes = [C.c_int32]
    lib.gg_version_string.restype = C.c_char_p
    lib.gg_version_string.argtypes = []
    lib.gg_abi_version.restype = C.c_int32
    lib.gg_abi_version.argtypes = []
    lib.gg_get_build_info.argtypes = [C.POINTER(BuildInfo)]
    lib.gg_build_architecture.restype = C.c_char_p
    lib.gg_build_architecture.argtypes = [C.c_int32]
    lib.gg_handle_create.argtypes = [C.POINTER(C.c_void_p), C.c_int32]
    lib.gg_handle_destroy.argtypes = [C.c_void_p]
    lib.gg_gmm.argtypes = [C.c_void_p, C.POINTER(GmmArgs)]
    lib.gg_gmm_backend_supported.argtypes = [C.c_void_p, C.POINTER(GmmArgs), C.c_int32]
    lib.gg_gmm_select_backend.argtypes = [C.c_void_p, C.POINTER(GmmArgs), C.POINTER(C.c_int32)]
    for name in ("gg_get_build_info", "gg_handle_create", "gg_handle_destroy", "gg_gmm", "gg_gmm_backend_supported",
                 "gg_gmm_select_backend"):
        getattr(lib, name).restype = C.c_int32
    return lib


def _text(value: bytes | None) -> str:
    return value.decode(errors="replace") if value else ""


def backend_names(lib) -> dict:
    """{name: gg_backend value} of every backend the library knows, Auto included, as gg_backend_name spells them."""
    names = {}
    while (name := _text(lib.gg_backend_name(len(names)))) != "":
        names[name] = len(names)
    return names


def _dtype_code(dtype) -> int:
    import torch

    codes = {torch.float32: DTYPE_FLOAT32, torch.float16: DTYPE_FLOAT16, torch.bfloat16: DTYPE_BFLOAT16}
    if dtype not in codes:
        raise ValueError(f"groupedgemm: unsupported element type {dtype}")
    return codes[dtype]


class GroupedGemm:
    """One gg_handle_t on the current CUDA device. Not for two threads at once (the handle's rule)."""

    def __init__(self, path_or_lib, device: int | None = None):
        self.lib = load(path_or_lib) if isinstance(path_or_lib, str) else path_or_lib
        self.backends = backend_names(self.lib)  # {name: gg_backend value}, Auto first
        if device is None:
            import torch

            device = torch.cuda.current_device()
        self.handle = C.c_void_p()
        self._check(self.lib.gg_handle_create(C.byref(self.handle), int(device)), "gg_handle_create")

    # ---- information -------------------------------------------------------------------------------------------

    def status_string(self, status: int) -> str:
        return _text(self.lib.gg_status_string(int(status)))

    def last_error(self) -> str:
        return _text(self.lib.gg_last_error_message())

    def backend_name(self, backend) -> str:
        code = self._backend_code(backend)
        return _text(self.lib.gg_backend_name(code)) or f"backend {code}"

    def version(self) -> str:
        return _text(self.lib.gg_version_string())

    def build_info(self) -> dict:
        """What was compiled in: ABI, CUDA and cuBLAS versions, backends and architectures."""
        info = BuildInfo()
        self._check(self.lib.gg_get_build_info(C.byref(info)), "gg_get_build_info")
        return {"abi_version": info.abi_version, "cuda_toolkit_version": info.cuda_toolkit_version,
                "cublas_version": info.cublas_version,
                "backends": [name for name, code in self.backends.items() if info.compiled_backends & (1 << code)],
                "architectures": [_text(self.lib.gg_build_architecture(i)) for i in range(info.architecture_count)]}

    # ---- grouped GEMM ------------------------------------------------------------------------------------------

    def args(self, a, b, c, counts, trans_a: bool = False, trans_b: bool = False, backend=BACKEND_AUTO,
             accumulate: bool = False, check_counts: bool = False, stream=None) -> GmmArgs:
        """gg_gmm_args over torch tensors (row-major, contiguous). `counts` is int64, on the host or the device
        (its location is taken from the tensor); `stream` defaults to torch's current stream."""
        import torch

        if counts.dtype != torch.int64:
            raise ValueError("groupedgemm: counts must be int64")
        m, k = a.shape
        n = b.shape[1] if (trans_a or trans_b) else b.shape[2]
        if stream is None:
            stream = torch.cuda.current_stream().cuda_stream
        return GmmArgs(a.data_ptr(), b.data_ptr(), c.data_ptr(), counts.data_ptr(), m, k, n, counts.numel(),
                       _dtype_code(a.dtype), COUNTS_DEVICE if counts.is_cuda else COUNTS_HOST, int(trans_a),
                       int(trans_b), int(accumulate), int(check_counts), self._backend_code(backend), 0, stream)

    def gmm_args(self, args: GmmArgs) -> None:
        """gg_gmm on prepared arguments (the cheapest call: nothing is rebuilt)."""
        self._check(self.lib.gg_gmm(self.handle, C.byref(args)), "gg_gmm")

    def gmm(self, a, b, c, counts, trans_a: bool = False, trans_b: bool = False, backend=BACKEND_AUTO,
            accumulate: bool = False) -> None:
        """c = gmm(a, b, counts) into the preallocated c, on torch's current stream."""
        self.gmm_args(self.args(a, b, c, counts, trans_a, trans_b, backend, accumulate))

    def supported(self, args: GmmArgs, backend) -> tuple[int, str]:
        """(0, "") when `backend` can take `args`, else (status, reason)."""
        status = self.lib.gg_gmm_backend_supported(self.handle, C.byref(args), self._backend_code(backend))
        return status, (self.last_error() if status else "")

    def select_backend_args(self, args: GmmArgs) -> str:
        chosen = C.c_int32()
        self._check(self.lib.gg_gmm_select_backend(self.handle, C.byref(args), C.byref(chosen)), "gg_gmm_select_backend")
        return self.backend_name(chosen.value)

    def select_backend(self, a, b, c, counts, trans_a: bool = False, trans_b: bool = False, backend=BACKEND_AUTO) -> str:
        """The name of the backend gg_gmm would run for this call (Auto resolved)."""
        return self.select_backend_args(self.args(a, b, c, counts, trans_a, trans_b, backend))

    def close(self) -> None:
        if self.handle:
            self.lib.gg_handle_destroy(self.handle)
            self.handle = C.c_void_p()

    def _backend_code(self, backend) -> int:
        """The gg_backend value of a backend given by name ("cutlass-sm90") or value."""
        if not isinstance(backend, str):
            return int(backend)
        if backend not in self.backends:
            raise ValueError(f"groupedgemm: unknown backend '{backend}' (known: {', '.join(self.backends)})")
        return self.backends[backend]

    def _check(self, status: int, what: str) -> None:
        if status:
            raise GroupedGemmError(f"{what}: {self.status_string(status)}: {self.last_error()}", status)
