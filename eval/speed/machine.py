"""Which machine a benchmark ran on: speed figures mean little without it.

The same command gave 160 int8 pairs/s a core on a host without VNNI and about 400 on one with AVX-512
VNNI and AMX, so every benchmark report names the CPU, its cores and the vector extensions that int8
and bf16 inference use.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass
from pathlib import Path

from models.runtime import available_cores, cpu_info

INFERENCE_EXTENSIONS = ("avx2", "avx512f", "avx512_vnni", "avx_vnni", "avx512_bf16", "amx_int8", "amx_bf16")
"""CPU flags that decide how fast int8 (VNNI, AMX) and bf16 (AVX512-BF16, AMX) matrix products run."""


@dataclass(frozen=True)
class Machine:
    cpu: str
    cores: int
    """Cores this process may run on (its affinity), not the host's total."""
    extensions: tuple[str, ...]

    def describe(self) -> str:
        extensions = ", ".join(self.extensions) or "none of " + ", ".join(INFERENCE_EXTENSIONS)
        return f"{self.cpu}, {self.cores} cores ({extensions})"

    def to_json(self) -> dict:
        return asdict(self) | {"description": self.describe()}


def this_machine(cpuinfo: Path = Path("/proc/cpuinfo")) -> Machine:
    name, flags = cpu_info(cpuinfo)
    return Machine(name, available_cores(), tuple(flag for flag in INFERENCE_EXTENSIONS if flag in flags))
