"""Report side of ``benchmarks/latency.py``: teacher/student ratios per backend and the printed table."""

from __future__ import annotations

from collections.abc import Callable, Sequence

from benchmarks.report import emit

STAGES = ("text", "denoise", "decode", "joints")


def teacher_over_student(rows: Sequence[dict[str, object]], key: str = "end_to_end_ms") -> dict[str, float]:
    """Teacher / 1-step student time (``key``: a row's time field) for each denoiser backend both ran on.

    Only the plain rows count (not the foot-fix or reference rows); keys are "<backend> denoisers".
    """
    student = first_per_backend(rows, is_plain_student_1_step, key)
    teacher = first_per_backend(rows, lambda label: label.startswith("teacher"), key)
    return {f"{backend} denoisers": teacher[backend] / student[backend] for backend in teacher if backend in student}


def shared_stage_budget(rows: Sequence[dict[str, object]], target: float) -> dict[str, dict[str, float]]:
    """How long the 1-step student's non-denoising stages may take for a teacher/student ratio of ``target``.

    With denoising times D_t (teacher) and D_s (1-step student), the rest of the student's request F
    (text encoding, decoding, joints, overhead: its end-to-end time minus its denoising) and the
    teacher's rest F + d (d: what the teacher pays more outside denoising, such as MiniLM against the
    student's static text encoder; 0 when both run the same stages), the ratio is
    (D_t + d + F) / (D_s + F), which reaches ``target`` only while F <= (D_t + d - target D_s) /
    (target - 1): the shared stages may grow or shrink on both sides, the difference d stays. Per
    denoiser backend: that ``allowed_ms``, the ``measured_ms`` F and ``teacher_extra_ms`` d.
    """
    teacher = first_per_backend(rows, lambda label: label.startswith("teacher"), "denoise_ms")
    teacher_total = first_per_backend(rows, lambda label: label.startswith("teacher"))
    student = first_per_backend(rows, is_plain_student_1_step, "denoise_ms")
    student_total = first_per_backend(rows, is_plain_student_1_step)
    budget = {}
    for backend in teacher:
        if backend not in student:
            continue
        rest = student_total[backend] - student[backend]
        extra = teacher_total[backend] - teacher[backend] - rest
        budget[f"{backend} denoisers"] = {
            "allowed_ms": (teacher[backend] + extra - target * student[backend]) / (target - 1.0),
            "measured_ms": rest,
            "teacher_extra_ms": extra,
        }
    return budget


def is_plain_student_1_step(label: str) -> bool:
    """A 1-step student row without the foot fix (on either denoiser backend)."""
    return label.startswith("student") and label.endswith(", 1 step")


def first_per_backend(
    rows: Sequence[dict[str, object]], selected: Callable[[str], bool], key: str = "end_to_end_ms"
) -> dict[str, float]:
    """``key`` of the first row per denoiser backend whose label ``selected`` accepts."""
    found: dict[str, float] = {}
    for row in rows:
        if selected(str(row["label"])):
            found.setdefault(str(row["denoiser_backend"]), float(row[key]))
    return found


def print_report(report: dict[str, object]) -> None:
    """JSON, the markdown table, then the machine, threads and the targets."""
    batches = list(report["rows"][0]["sequences_per_second"])
    header = [
        "configuration",
        "weights",
        "denoiser",
        *(f"{stage} ms" for stage in STAGES),
        "end-to-end ms (new text)",
        "end-to-end ms (cached text)",
        *(f"seq/s @ batch {b}" for b in batches),
        "x 1-step student (same denoiser backend)",
    ]
    table = [[row["label"], row["weights"], row["denoiser_backend"], *(f"{row[f'{stage}_ms']:.1f}" for stage in STAGES),
              f"{row['end_to_end_ms']:.1f}", f"{row['end_to_end_cached_text_ms']:.1f}",
              *(f"{row['sequences_per_second'][b]:.1f}" for b in batches),
              f"{row['end_to_end_vs_student_1_step']:.1f}"] for row in report["rows"]]  # fmt: skip
    emit(report, header, table)
    load, settings = report["load_average_1min"], report["settings"]
    print(f"Device {report['device']}, torch threads {report['torch_threads']}, text encoder "
          f"{report['text_encoder']} (student: {report.get('student_text_encoder', report['text_encoder'])}), "
          f"VAE decoder {'/'.join(report['vae_decoder'])}, denoisers "
          f"{'/'.join(report['denoisers'])}, ONNX Runtime spinning {report['onnx_runtime_spinning']}, "
          f"{settings['frames']} frames per "
          f"sequence at batch 1, medians of {settings['repeats']} after {settings['warmup']} warm-up calls, "
          f"load average {load['start']:.2f} -> {load['end']:.2f}; {report['mode']}.")  # fmt: skip
    ratios = report["teacher_over_student_1_step_denoise_stage"].items()
    stage = ", ".join(f"{value:.0f}x ({pair})" for pair, value in ratios)
    print(f"Denoising stage alone, teacher over 1-step student: {stage}.")
    budget = ", ".join(
        f"at most {value['allowed_ms']:.1f} ms against {value['measured_ms']:.1f} ms measured "
        f"({pair}; the teacher's take {value.get('teacher_extra_ms', 0.0):.1f} ms more)"
        for pair, value in report["shared_stage_budget"]["by_denoiser_backend"].items()
    )
    print(f"For {report['shared_stage_budget']['target']:g}x end to end, the 1-step student's stages besides "
          f"denoising (text, decoding, joints, overhead) may take {budget}.")  # fmt: skip
    comparison = report["vae_decoder_batch1"]
    if comparison is not None:
        print(f"VAE decoder alone, batch 1, {settings['frames']} frames, interleaved: torch "
              f"{comparison['torch_ms']:.1f} ms, ONNX Runtime {comparison['onnx_ms']:.1f} ms "
              f"({comparison['torch_over_onnx']:.2f}x); the same export with dynamic shapes "
              f"{comparison['onnx_dynamic_shapes_ms']:.1f} ms ({comparison['dynamic_over_fixed_shapes']:.2f}x "
              "the fixed-shape session).")  # fmt: skip
    for name, target in report["targets"].items():
        verdict = "met" if target["met"] else "NOT met"
        print(f"Target {name}: {target['target']}; measured {target['value']:.1f} ({target['denoiser_backend']} "
              f"denoisers) -> {verdict}")  # fmt: skip
