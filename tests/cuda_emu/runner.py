"""Python side of the kernel emulation lane: compile a CUDA file with g++, launch its kernels.

    from cuda_emu import emu_launch
    emu_launch("clip.cu", "gm_clip_f32", grid=4, block=128,
               args=[x, out, np.float32(-1), np.float32(1), np.int64(x.size)])

* ``kernels/<file>.cu`` (or any path) is compiled unchanged, with ``-include cuda_emu.h
  -DGM_EMU=1 -I kernels``, into a shared library together with one generated trampoline per
  ``extern "C" __global__`` function. Libraries are cached on disk under a key that hashes the
  sources, the emulation files, the flags and the compiler version (``GM_EMU_CACHE_DIR``,
  default ``$TMPDIR/gpumath-cuda-emu-<uid>``), and loaded once per process.
* The trampoline reports the kernel's parameter types, so every argument is checked the way
  a RawKernel would need it: arrays C-contiguous with the pointee's exact dtype, scalars NumPy
  scalars of the exact C type (np.float32 for float, np.int64 for long long ...).
* Each array becomes a guarded device buffer (guard pages, canaries; read-only when the
  kernel only takes it as const), is copied in before the launch and, for non-const
  parameters, copied back after it. The same array passed twice is one buffer (aliasing
  behaves as on the GPU).
* ``race_check`` (default on) runs the launch twice, forward (block 0 and thread 0 first) and
  reversed, and requires the same results: a missing ``__syncthreads`` makes results depend on
  the order threads run between barriers.
* Failures raise an ``EmuError`` subclass whose message names the kernel, and where it applies
  the argument, the element index, the thread and the block.
"""

from __future__ import annotations

import ctypes
import hashlib
import os
import re
import subprocess
import tempfile
import threading
from dataclasses import dataclass
from pathlib import Path

import numpy as np

EMU_DIR = Path(__file__).resolve().parent
REPO = EMU_DIR.parents[1]
KERNELS_DIR = REPO / "kernels"
HEADER = EMU_DIR / "cuda_emu.h"
# Stand-ins for CUDA system headers (<mma.h>: the WMMA API), searched before any other.
SYSTEM_INCLUDE_DIR = EMU_DIR / "include"
RUNTIME_SRC = EMU_DIR / "emu_runtime.cpp"

CXX = os.environ.get("GM_EMU_CXX", "g++")
RUNTIME_FLAGS = [
    "-std=gnu++17",
    "-O2",
    "-g0",
    "-fPIC",
    "-shared",
    "-pthread",
    "-U_FORTIFY_SOURCE",
    "-fvisibility=hidden",
]
KERNEL_FLAGS = [
    "-std=gnu++17",
    "-O1",
    "-g0",
    "-fPIC",
    "-shared",
    "-U_FORTIFY_SOURCE",
    "-fvisibility=hidden",
    "-fno-strict-aliasing",
    "-Wno-unknown-pragmas",
    "-DGM_EMU=1",
]
DEFAULT_TIMEOUT_S = float(os.environ.get("GM_EMU_TIMEOUT", "30"))
DEFAULT_MAX_SHARED = 48 * 1024


# --------------------------------------------------------------------------------------------
# Errors


class EmuError(Exception):
    """A kernel failed in the emulation lane."""


class EmuCompileError(EmuError):
    """g++ could not compile the kernel file with the emulation header."""


class EmuLaunchError(EmuError):
    """Invalid launch configuration or arguments."""


class EmuDeadlockError(EmuError):
    """Barrier divergence or deadlock: a thread skipped a barrier the others reached."""


class EmuOutOfBoundsError(EmuError):
    """An access outside an argument buffer or dynamic shared memory, or a write to a const one."""


class EmuMemoryError(EmuError):
    """Any other invalid memory access, a stack overflow, an arithmetic exception."""


class EmuTimeoutError(EmuError):
    """The launch ran past its timeout (an infinite loop)."""


class EmuWarpError(EmuError):
    """Misuse of a warp primitive (mask without the calling lane, lanes in different primitives)."""


class EmuTrapError(EmuError):
    """The kernel called __trap() or failed an assert()."""


class EmuRaceError(EmuError):
    """Results depend on the thread schedule: a data race, e.g. a missing __syncthreads()."""


_CODES = {
    1: EmuLaunchError,
    2: EmuDeadlockError,
    3: EmuOutOfBoundsError,
    4: EmuMemoryError,
    5: EmuTimeoutError,
    6: EmuWarpError,
    7: EmuTrapError,
    8: EmuError,
}


# --------------------------------------------------------------------------------------------
# ctypes mirrors of cuda_emu.h


class _Buffer(ctypes.Structure):
    _fields_ = [
        ("label", ctypes.c_char_p),
        ("data", ctypes.c_void_p),
        ("nbytes", ctypes.c_longlong),
        ("itemsize", ctypes.c_longlong),
        ("map_base", ctypes.c_void_p),
        ("map_len", ctypes.c_longlong),
    ]


class _Config(ctypes.Structure):
    _fields_ = [
        ("grid", ctypes.c_uint * 3),
        ("block", ctypes.c_uint * 3),
        ("shared_bytes", ctypes.c_longlong),
        ("max_shared_bytes", ctypes.c_longlong),
        ("reverse", ctypes.c_int),
        ("timeout_s", ctypes.c_double),
        ("kernel", ctypes.c_char_p),
        ("nbuf", ctypes.c_int),
        ("bufs", ctypes.POINTER(_Buffer)),
        ("static_shared_begin", ctypes.c_void_p),
        ("static_shared_end", ctypes.c_void_p),
    ]


class _Result(ctypes.Structure):
    _fields_ = [
        ("code", ctypes.c_int),
        ("fp_atomics", ctypes.c_longlong),
        ("message", ctypes.c_char * 4096),
    ]


# --------------------------------------------------------------------------------------------
# Source scanning

_QUALS = r"(?:(?:__\w+__|static|inline)(?:\s*\([^()]*\))?\s+)*"
_KERNEL_RE = re.compile(rf'extern\s+"C"\s+({_QUALS})void\s+({_QUALS})(\w+)\s*\(')


def strip_comments(src: str) -> str:
    """Remove // and /* */ comments, keeping string literals and line numbers."""
    out, i, n = [], 0, len(src)
    while i < n:
        c = src[i]
        if c == '"':
            j = i + 1
            while j < n and src[j] != '"':
                j += 2 if src[j] == "\\" else 1
            out.append(src[i : j + 1])
            i = j + 1
        elif src.startswith("//", i):
            j = src.find("\n", i)
            i = n if j < 0 else j
        elif src.startswith("/*", i):
            j = src.find("*/", i + 2)
            j = n if j < 0 else j + 2
            out.append("\n" * src.count("\n", i, j))
            i = j
        else:
            out.append(c)
            i += 1
    return "".join(out)


def _params_after(src: str, start: int) -> str:
    depth, i = 1, start
    while i < len(src) and depth:
        depth += {"(": 1, ")": -1}.get(src[i], 0)
        i += 1
    return src[start : i - 1]


def kernel_signatures(source: str) -> dict[str, list[str]]:
    """``{kernel name: [parameter names]}`` for every ``extern "C" __global__`` function."""
    src = strip_comments(source)
    found = {}
    for m in _KERNEL_RE.finditer(src):
        if "__global__" not in m.group(1) + m.group(2):
            continue
        params = _params_after(src, m.end())
        names = []
        for p in (q.strip() for q in params.split(",")):
            ident = re.findall(r"[A-Za-z_]\w*", re.sub(r"\[[^\]]*\]", "", p))
            if ident:
                names.append(ident[-1])
        found[m.group(3)] = names
    return found


def kernels_in(path) -> list[str]:
    """Names of the ``extern "C" __global__`` functions of one .cu file."""
    return list(kernel_signatures(Path(path).read_text()))


def all_kernels(directory=KERNELS_DIR) -> dict[str, str]:
    """``{kernel name: file name}`` over every ``*.cu`` file of ``directory`` (default kernels/)."""
    out = {}
    for f in sorted(Path(directory).glob("*.cu")):
        for k in kernels_in(f):
            out[k] = f.name
    return out


# --------------------------------------------------------------------------------------------
# Compilation and loading

_lock = threading.RLock()
_runtime_lib = None
_modules: dict[tuple[str, tuple[str, ...]], EmuModule] = {}
_compiler_id = None


def cache_dir() -> Path:
    d = os.environ.get("GM_EMU_CACHE_DIR")
    path = Path(d) if d else Path(tempfile.gettempdir()) / f"gpumath-cuda-emu-{os.getuid()}"
    path.mkdir(parents=True, exist_ok=True)
    return path


def _compiler_version() -> str:
    global _compiler_id
    if _compiler_id is None:
        try:
            r = subprocess.run([CXX, "--version"], capture_output=True, text=True, check=True)
        except (OSError, subprocess.CalledProcessError) as e:
            raise EmuCompileError(f"the emulation lane needs a C++ compiler ({CXX!r}): {e}") from e
        _compiler_id = r.stdout.splitlines()[0] if r.stdout else CXX
    return _compiler_id


def _digest(*parts) -> str:
    h = hashlib.sha256()
    for p in parts:
        h.update(p if isinstance(p, bytes) else str(p).encode())
        h.update(b"\0")
    return h.hexdigest()[:20]


def _compile(cmd: list[str], out: Path, what: str) -> None:
    tmp = out.with_name(f"{out.name}.{os.getpid()}.{threading.get_ident()}.tmp")
    r = subprocess.run(cmd + ["-o", str(tmp)], capture_output=True, text=True)
    if r.returncode != 0:
        tmp.unlink(missing_ok=True)
        err = "\n".join(r.stderr.splitlines()[:60])
        hint = ""
        if "mma" in err or "asm" in err or "Error: no such instruction" in err:
            hint = (
                "\nhint: inline PTX cannot run in the lane; keep a plain-CUDA path, guard the PTX "
                "with `#if GM_HAS_INLINE_PTX` (kernels/common.cuh)."
            )
        raise EmuCompileError(
            f"compiling {what} for the emulation lane failed:\n$ {' '.join(cmd)}\n{err}{hint}"
        )
    os.replace(tmp, out)


def _runtime() -> tuple[ctypes.CDLL, Path]:
    global _runtime_lib
    with _lock:
        if _runtime_lib is None:
            key = _digest(
                HEADER.read_bytes(), RUNTIME_SRC.read_bytes(), RUNTIME_FLAGS, _compiler_version()
            )
            path = cache_dir() / f"libgm_emu_rt-{key}.so"
            if not path.exists():
                _compile(
                    [CXX, *RUNTIME_FLAGS, f"-Wl,-soname,{path.name}", str(RUNTIME_SRC)],
                    path,
                    "the emulation runtime",
                )
            lib = ctypes.CDLL(str(path), mode=ctypes.RTLD_GLOBAL)
            lib.gm_emu_alloc.restype = ctypes.c_void_p
            lib.gm_emu_alloc.argtypes = [
                ctypes.c_longlong,
                ctypes.c_int,
                ctypes.POINTER(ctypes.c_void_p),
                ctypes.POINTER(ctypes.c_longlong),
            ]
            lib.gm_emu_protect.restype = ctypes.c_int
            lib.gm_emu_protect.argtypes = [ctypes.c_void_p, ctypes.c_longlong, ctypes.c_int]
            lib.gm_emu_free.restype = None
            lib.gm_emu_free.argtypes = [ctypes.c_void_p, ctypes.c_longlong]
            _runtime_lib = (lib, path)
        return _runtime_lib


def resolve(file) -> Path:
    """``"clip.cu"`` -> kernels/clip.cu; any other existing path as it is."""
    p = Path(file)
    if not p.is_absolute() and len(p.parts) == 1 and (KERNELS_DIR / p).exists():
        return KERNELS_DIR / p
    if p.exists():
        return p.resolve()
    raise FileNotFoundError(f"no kernel file {file!r} (looked in {KERNELS_DIR} and {Path.cwd()})")


def load(file, defines=None) -> EmuModule:
    """Compile (or fetch from the cache) and load one kernel file.

    defines: {name: value} passed as -Dname=value, like the -D knobs the GPU build gets.
    """
    path = resolve(file)
    flags = tuple(f"-D{k}={v}" for k, v in sorted((defines or {}).items()))
    with _lock:
        mod = _modules.get((str(path), flags))
        if mod is None:
            mod = EmuModule(path, flags)
            _modules[(str(path), flags)] = mod
        return mod


# --------------------------------------------------------------------------------------------
# Parameter types

_DTYPES = {
    "f4": np.float32,
    "f8": np.float64,
    "i1": np.int8,
    "u1": np.uint8,
    "i2": np.int16,
    "u2": np.uint16,
    "i4": np.int32,
    "u4": np.uint32,
    "i8": np.int64,
    "u8": np.uint64,
    "b1": np.bool_,
}
_CNAMES = {
    "f4": "float",
    "f8": "double",
    "i1": "signed char",
    "u1": "unsigned char",
    "i2": "short",
    "u2": "unsigned short",
    "i4": "int",
    "u4": "unsigned int",
    "i8": "long long",
    "u8": "unsigned long long",
    "b1": "bool",
    "v": "void",
}
_VNAMES = {
    "f4": "float",
    "f8": "double",
    "i4": "int",
    "u4": "uint",
    "i1": "char",
    "u1": "uchar",
    "i2": "short",
    "u2": "ushort",
    "i8": "longlong",
    "u8": "ulonglong",
}


@dataclass(frozen=True)
class Param:
    name: str
    code: str  # from the trampoline: "f4", "*cf4", "*f4x4", "*v", "?16"

    @property
    def is_pointer(self) -> bool:
        return self.code.startswith("*")

    @property
    def is_const(self) -> bool:
        return self.code.startswith("*c")

    @property
    def base(self) -> str:
        c = self.code[2:] if self.is_const else self.code.lstrip("*")
        return c.split("x")[0]

    @property
    def lanes(self) -> int:
        c = self.code.lstrip("*c")
        return int(c.split("x")[1]) if "x" in c else 1

    @property
    def ctype(self) -> str:
        if self.code.startswith("?"):
            return f"<{self.code[1:]}-byte struct>"
        b = _CNAMES.get(self.base, self.base)
        if self.lanes > 1:
            b = f"{_VNAMES[self.base]}{self.lanes}"
        if self.is_pointer:
            return ("const " if self.is_const else "") + b + "*"
        return b

    @property
    def elem_size(self) -> int:
        if self.base == "v":
            return 1
        return np.dtype(_DTYPES[self.base]).itemsize * self.lanes


class EmuKernel:
    def __init__(self, module: EmuModule, name: str, params: list[Param], fn):
        self.module, self.name, self.params, self._fn = module, name, params, fn

    def __repr__(self):
        sig = ", ".join(f"{p.ctype} {p.name}" for p in self.params)
        return f"<EmuKernel {self.name}({sig}) from {self.module.path.name}>"

    def launch(self, grid, block, args, shared_bytes=0, **options):
        """Run this kernel; ``options`` as for :func:`emu_launch`."""
        return _launch(self, grid, block, args, shared_bytes, **options)


class EmuModule:
    """One compiled kernel file."""

    def __init__(self, path: Path, flags: tuple[str, ...] = ()):
        self.path = path
        source = path.read_text()
        stripped = strip_comments(source)
        if re.search(r"extern\s+__shared__", stripped):
            raise EmuCompileError(
                f"{path.name}: `extern __shared__` cannot be emulated; declare dynamic shared "
                "memory with GM_DYNAMIC_SHARED(type, name) from kernels/common.cuh"
            )
        self.signatures = kernel_signatures(source)
        if not self.signatures:
            raise EmuCompileError(f'{path.name} has no extern "C" __global__ function')
        lib_rt, rt_path = _runtime()
        tramp = f'#include "{path}"\n' + "".join(f"GM_EMU_KERNEL({k})\n" for k in self.signatures)
        includes = sorted(
            {
                *KERNELS_DIR.glob("*.cuh"),
                *KERNELS_DIR.glob("*.h"),
                *path.parent.glob("*.cuh"),
                *path.parent.glob("*.h"),
                *SYSTEM_INCLUDE_DIR.glob("*.h"),
            }
        )
        key = _digest(
            source,
            tramp,
            HEADER.read_bytes(),
            rt_path.name,
            KERNEL_FLAGS,
            flags,
            _compiler_version(),
            *[(str(f), f.read_bytes()) for f in includes],
        )
        out = cache_dir() / f"{path.stem}-{key}.so"
        if not out.exists():
            src = cache_dir() / f"{path.stem}-{key}.{os.getpid()}.{threading.get_ident()}.cpp"
            src.write_text(tramp)
            try:
                _compile(
                    [
                        CXX,
                        *KERNEL_FLAGS,
                        *flags,
                        "-include",
                        str(HEADER),
                        f"-I{SYSTEM_INCLUDE_DIR}",
                        f"-I{KERNELS_DIR}",
                        f"-I{path.parent}",
                        str(src),
                        f"-L{rt_path.parent}",
                        f"-l:{rt_path.name}",
                        "-Wl,-rpath,$ORIGIN",
                    ],
                    out,
                    path.name,
                )
            finally:
                src.unlink(missing_ok=True)
        self.lib = ctypes.CDLL(str(out))
        self.kernels: dict[str, EmuKernel] = {}
        for name, pnames in self.signatures.items():
            sig = getattr(self.lib, f"gm_emu_sig_{name}")
            sig.restype = ctypes.c_char_p
            codes = [c for c in sig().decode().split(",") if c]
            if len(pnames) != len(codes):
                pnames = [f"arg{i}" for i in range(len(codes))]
            fn = getattr(self.lib, f"gm_emu_launch_{name}")
            fn.restype = ctypes.c_int
            fn.argtypes = [ctypes.POINTER(_Config), ctypes.c_void_p, ctypes.POINTER(_Result)]
            params = [Param(n, c) for n, c in zip(pnames, codes, strict=True)]
            self.kernels[name] = EmuKernel(self, name, params, fn)

    def __getitem__(self, name) -> EmuKernel:
        try:
            return self.kernels[name]
        except KeyError:
            raise KeyError(
                f"{self.path.name} has no kernel {name!r}; it has {sorted(self.kernels)}"
            ) from None


# --------------------------------------------------------------------------------------------
# Launching


def _dim3(v, what) -> tuple[int, int, int]:
    t = (v,) if isinstance(v, (int, np.integer)) else tuple(v)
    if not 1 <= len(t) <= 3 or not all(isinstance(x, (int, np.integer)) for x in t):
        raise EmuLaunchError(f"{what} must be an int or a tuple of 1 to 3 ints, got {v!r}")
    t = tuple(int(x) for x in t) + (1,) * (3 - len(t))
    if min(t) < 1:
        raise EmuLaunchError(f"{what} {t} must be positive")
    return t


class _Buf:
    def __init__(self, rt, array: np.ndarray, param: Param, index: int, guard: str):
        self.rt, self.array, self.params = rt, array, [(index, param)]
        self.map_base, self.map_len = ctypes.c_void_p(), ctypes.c_longlong()
        self.nbytes = array.nbytes
        self.data = rt.gm_emu_alloc(
            self.nbytes,
            1 if guard == "start" else 0,
            ctypes.byref(self.map_base),
            ctypes.byref(self.map_len),
        )
        if not self.data:
            raise MemoryError(f"cannot allocate an emulated buffer of {self.nbytes} bytes")

    @property
    def writable(self) -> bool:
        return any(not p.is_const for _, p in self.params)

    def label(self) -> str:
        idx, p = self.params[0]
        n = self.nbytes // p.elem_size
        names = " / ".join(f"#{i} `{q.name}`" for i, q in self.params)
        word = "argument" if len(self.params) == 1 else "arguments"
        return f"{word} {names} ({p.ctype}, {n} elements)"

    def load(self):
        if self.nbytes:
            ctypes.memmove(self.data, self.array.ctypes.data, self.nbytes)

    def read(self) -> np.ndarray:
        out = np.empty_like(self.array)
        if self.nbytes:
            ctypes.memmove(out.ctypes.data, self.data, self.nbytes)
        return out

    def free(self):
        if self.map_base.value:
            self.rt.gm_emu_free(self.map_base, self.map_len)
            self.map_base = ctypes.c_void_p()


def _check_array(k: EmuKernel, i: int, p: Param, a) -> np.ndarray:
    where = f"{k.name} argument #{i} `{p.name}` ({p.ctype})"
    if not isinstance(a, np.ndarray):
        raise EmuLaunchError(f"{where} needs a NumPy array, got {type(a).__name__}")
    if not a.flags.c_contiguous:
        raise EmuLaunchError(
            f"{where}: the array must be C-contiguous (a RawKernel ignores strides)"
        )
    if not p.is_const and not a.flags.writeable:
        raise EmuLaunchError(f"{where}: the kernel writes through it, but the array is read-only")
    if p.base == "v":
        return a
    want = np.dtype(_DTYPES[p.base])
    ok = a.dtype == want
    if p.lanes == 2 and a.dtype == np.dtype(
        {"f4": np.complex64, "f8": np.complex128}.get(p.base, "V1")
    ):
        ok = True
    if not ok:
        raise EmuLaunchError(f"{where} needs dtype {want.name}, got {a.dtype.name}")
    if a.nbytes % p.elem_size:
        raise EmuLaunchError(f"{where}: {a.nbytes} bytes is not a whole number of {p.ctype[:-1]}")
    return a


def _scalar(k: EmuKernel, i: int, p: Param, a):
    where = f"{k.name} argument #{i} `{p.name}` ({p.ctype})"
    if p.code.startswith("?"):
        raise EmuLaunchError(f"{where}: struct parameters by value are not supported by the lane")
    want = np.dtype(_DTYPES[p.base])
    if p.lanes > 1:
        raise EmuLaunchError(f"{where}: vector parameters by value are not supported by the lane")
    if not isinstance(a, np.generic) or a.dtype != want:
        got = type(a).__name__ if not isinstance(a, np.generic) else f"np.{a.dtype.name}"
        raise EmuLaunchError(
            f"{where} needs a NumPy scalar np.{want.name}, got {got} "
            "(pass scalars as NumPy scalars of the exact C type)"
        )
    return np.array([a], dtype=want)


def _first_difference(a: np.ndarray, b: np.ndarray, tolerant: bool):
    if tolerant and a.dtype.kind in "fc":
        rtol = 1e-4 if a.dtype.itemsize <= 8 and a.dtype != np.float64 else 1e-10
        bad = ~np.isclose(a, b, rtol=rtol, atol=rtol, equal_nan=True)
    else:
        va = a.reshape(-1).view(np.uint8).reshape(a.size, -1) if a.size else a.reshape(-1)
        vb = b.reshape(-1).view(np.uint8).reshape(b.size, -1) if b.size else b.reshape(-1)
        bad = (va != vb).any(axis=1) if a.size else np.zeros(0, bool)
    bad = np.asarray(bad).reshape(-1)
    idx = np.flatnonzero(bad)
    return (int(idx[0]), int(idx.size)) if idx.size else (None, 0)


def _launch(
    k: EmuKernel,
    grid,
    block,
    args,
    shared_bytes=0,
    *,
    timeout=None,
    race_check=True,
    guard="end",
    max_shared_bytes=DEFAULT_MAX_SHARED,
):
    if guard not in ("end", "start"):
        raise EmuLaunchError(f"guard must be 'end' or 'start', got {guard!r}")
    args = list(args)
    if len(args) != len(k.params):
        raise EmuLaunchError(
            f"{k.name} takes {len(k.params)} arguments "
            f"({', '.join(p.name for p in k.params)}), got {len(args)}"
        )
    g, b = _dim3(grid, "grid"), _dim3(block, "block")
    rt, _ = _runtime()
    bufs: list[_Buf] = []
    storage = []  # keeps scalars alive
    slots = (ctypes.c_void_p * max(1, len(args)))()
    try:
        for i, (p, a) in enumerate(zip(k.params, args, strict=True)):
            if p.is_pointer:
                if a is None:
                    ptr = ctypes.c_void_p(None)
                else:
                    a = _check_array(k, i, p, a)
                    buf = next(
                        (
                            x
                            for x in bufs
                            if x.array is a
                            or (x.array.ctypes.data == a.ctypes.data and x.nbytes == a.nbytes)
                        ),
                        None,
                    )
                    if buf is None:
                        for x in bufs:
                            if x.nbytes and a.nbytes and np.may_share_memory(x.array, a):
                                raise EmuLaunchError(
                                    f"{k.name} argument #{i} `{p.name}` partly overlaps another "
                                    "array argument; the lane supports only identical aliases"
                                )
                        buf = _Buf(rt, a, p, i, guard)
                        bufs.append(buf)
                    else:
                        buf.params.append((i, p))
                    ptr = ctypes.c_void_p(buf.data)
                storage.append(ptr)
                slots[i] = ctypes.addressof(ptr)
            else:
                s = _scalar(k, i, p, a)
                storage.append(s)
                slots[i] = s.ctypes.data
        labels = [x.label().encode() for x in bufs]
        cbufs = (_Buffer * max(1, len(bufs)))()
        for j, x in enumerate(bufs):
            x.load()
            rt.gm_emu_protect(x.map_base, x.map_len, 0 if x.writable else 1)
            cbufs[j] = _Buffer(
                labels[j], x.data, x.nbytes, x.params[0][1].elem_size, x.map_base, x.map_len
            )
        to = DEFAULT_TIMEOUT_S if timeout is None else float(timeout)

        def run(reverse: int) -> _Result:
            cfg = _Config(
                (ctypes.c_uint * 3)(*g),
                (ctypes.c_uint * 3)(*b),
                int(shared_bytes),
                int(max_shared_bytes),
                reverse,
                to,
                k.name.encode(),
                len(bufs),
                cbufs,
                None,
                None,
            )
            res = _Result()
            k._fn(ctypes.byref(cfg), ctypes.cast(slots, ctypes.c_void_p), ctypes.byref(res))
            if res.code:
                raise _CODES.get(res.code, EmuError)(res.message.decode(errors="replace"))
            return res

        res = run(0)
        outputs = [x.read() if x.writable else None for x in bufs]
        if race_check:
            for x in bufs:
                if x.writable:
                    x.load()
            res2 = run(1)
            tolerant = (res.fp_atomics + res2.fp_atomics) > 0
            for x, first in zip(bufs, outputs, strict=True):
                if first is None:
                    continue
                second = x.read()
                at, count = _first_difference(first, second, tolerant)
                if at is None:
                    continue
                nd = ""
                if first.ndim > 1:
                    nd = f" (index {tuple(int(v) for v in np.unravel_index(at, first.shape))})"
                fa, fb = first.reshape(-1)[at].item(), second.reshape(-1)[at].item()
                raise EmuRaceError(
                    f"{k.name}: data race: the result depends on the order in which threads run "
                    f"between barriers. The forward schedule (block 0, thread 0 first) and the "
                    f"reverse schedule differ at {x.label()} element {at}{nd}: {fa!r} vs {fb!r} "
                    f"({count} of {first.size} elements differ). Likely a missing __syncthreads() "
                    "between a shared-memory write and another thread's read of it, or two "
                    "threads writing one element."
                )
        for x, first in zip(bufs, outputs, strict=True):
            if first is not None and x.nbytes:
                ctypes.memmove(x.array.ctypes.data, first.ctypes.data, x.nbytes)
        return None
    finally:
        for x in bufs:
            x.free()


def emu_launch(
    file,
    kernel,
    grid,
    block,
    args,
    shared_bytes=0,
    *,
    timeout=None,
    race_check=True,
    guard="end",
    max_shared_bytes=DEFAULT_MAX_SHARED,
    defines=None,
):
    """Run ``kernel`` of ``file`` (``"clip.cu"`` means kernels/clip.cu) on the CPU.

    grid, block: int or tuple of up to 3 ints. args: one per kernel parameter: NumPy arrays for
    pointers (copied back into the array after the launch unless the parameter is const; None
    passes a null pointer), NumPy scalars of the exact C type for values. shared_bytes: dynamic
    shared memory (see GM_DYNAMIC_SHARED). timeout: seconds before an endless launch fails
    (default GM_EMU_TIMEOUT or 30). race_check: run forward and reversed schedules and require
    equal results. guard: "end" places each buffer's last byte against a guard page (exact
    overflow detection, base alignment = the size's alignment); "start" places it 4096-aligned
    against the lower guard page (exact underflow detection; overflow writes caught by canary).
    defines: {name: value} compile-time knobs (-D), e.g. a tuning variant of a kernel.
    """
    return load(file, defines)[kernel].launch(
        grid,
        block,
        args,
        shared_bytes,
        timeout=timeout,
        race_check=race_check,
        guard=guard,
        max_shared_bytes=max_shared_bytes,
    )
