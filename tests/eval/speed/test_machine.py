from eval.speed.machine import INFERENCE_EXTENSIONS, this_machine

CPUINFO = """processor\t: 0
model name\t: Example CPU @ 2.10GHz
flags\t\t: fpu sse2 avx2 avx512f avx512_vnni amx_tile amx_int8

processor\t: 1
model name\t: Example CPU @ 2.10GHz
flags\t\t: fpu sse2 avx2 avx512f avx512_vnni amx_tile amx_int8
"""


def test_description_names_only_the_inference_extensions_present(tmp_path):
    (tmp_path / "cpuinfo").write_text(CPUINFO)
    machine = this_machine(tmp_path / "cpuinfo")
    assert machine.extensions == ("avx2", "avx512f", "avx512_vnni", "amx_int8")
    assert machine.describe() == f"Example CPU @ 2.10GHz, {machine.cores} cores (avx2, avx512f, avx512_vnni, amx_int8)"
    assert machine.to_json()["description"] == machine.describe()


def test_a_cpu_without_those_extensions_says_so(tmp_path):
    (tmp_path / "cpuinfo").write_text("model name : Old CPU\nflags : fpu sse2\n")
    assert "none of " + ", ".join(INFERENCE_EXTENSIONS) in this_machine(tmp_path / "cpuinfo").describe()
