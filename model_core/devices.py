"""Devices the model can run on: ONNX Runtime's execution providers by the names users see (no numpy needed, so
that the plugin's settings can list them before GeoMeld's packages are installed)."""

from __future__ import annotations

from collections.abc import Sequence

CPU = "CPU"
# Device name -> ONNX Runtime execution provider, in the order the Settings list offers them.
PROVIDERS: dict[str, str] = {
    CPU: "CPUExecutionProvider",
    "CUDA": "CUDAExecutionProvider",
    "TensorRT": "TensorrtExecutionProvider",
    "ROCm": "ROCMExecutionProvider",
    "DirectML": "DmlExecutionProvider",
    "CoreML": "CoreMLExecutionProvider",
    "OpenVINO": "OpenVINOExecutionProvider",
}


def device_name(provider: str) -> str:
    """The device name of an execution provider ('CUDAExecutionProvider' -> 'CUDA'; unknown ones as they are)."""
    return next((name for name, known in PROVIDERS.items() if known == provider), provider)


def offered_devices(available: Sequence[str] | None = None) -> list[str]:
    """The devices this ONNX Runtime offers (`available`: its providers, default onnxruntime's), CPU always."""
    if available is None:
        try:
            import onnxruntime
        except ImportError:
            return [CPU]
        available = onnxruntime.get_available_providers()
    return [name for name, provider in PROVIDERS.items() if provider in available or name == CPU]


def providers_for(device: str) -> list[str]:
    """The execution providers a session is given for a device: the device's, then the CPU's for the operators the
    device lacks (a session that cannot use the device at all is reported, not hidden: see `fallback_note`)."""
    chosen = PROVIDERS.get(device, PROVIDERS[CPU])
    return list(dict.fromkeys([chosen, PROVIDERS[CPU]]))


def fallback_note(requested: Sequence[str], used: Sequence[str]) -> str:
    """A sentence when ONNX Runtime did not take the first provider asked for ("" when it did)."""
    if not requested or not used or requested[0] == used[0]:
        return ""
    return (
        f"ONNX Runtime could not use {device_name(requested[0])} (see the QGIS log or the terminal for its reason); "
        f"this job runs on {device_name(used[0])}."
    )
