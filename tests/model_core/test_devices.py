"""Devices: ONNX Runtime's execution providers by name, the device that runs the model, and a fallback to the CPU
that is reported, never silent."""

from __future__ import annotations

import pytest

from model_core.cli import main
from model_core.devices import PROVIDERS, fallback_note, offered_devices, providers_for
from model_core.runtime import load_model


def test_devices_offered_are_those_onnx_runtime_has():
    available = ["CoreMLExecutionProvider", "DmlExecutionProvider", "CPUExecutionProvider", "AzureExecutionProvider"]
    assert offered_devices(available) == ["CPU", "DirectML", "CoreML"]
    assert offered_devices([]) == ["CPU"]
    import onnxruntime

    assert set(offered_devices()) == {n for n, p in PROVIDERS.items() if p in onnxruntime.get_available_providers()}
    assert providers_for("DirectML") == ["DmlExecutionProvider", "CPUExecutionProvider"]
    assert providers_for("CPU") == ["CPUExecutionProvider"] and providers_for("unknown") == ["CPUExecutionProvider"]


def test_a_fallback_to_the_cpu_is_reported(weights_dir):
    assert fallback_note(["CPUExecutionProvider"], ["CPUExecutionProvider"]) == ""
    note = fallback_note(["CUDAExecutionProvider", "CPUExecutionProvider"], ["CPUExecutionProvider"])
    assert "could not use CUDA" in note and "runs on CPU" in note
    model = load_model(weights_dir, ["CPUExecutionProvider"])
    assert (model.device, model.device_note) == ("CPU", "")
    import onnxruntime

    if "CUDAExecutionProvider" in onnxruntime.get_available_providers():
        pytest.skip("this ONNX Runtime has CUDA: asking for it is no fallback here")
    asked = load_model(weights_dir, ["CUDAExecutionProvider", "CPUExecutionProvider"])
    assert asked.device == "CPU" and "could not use CUDA" in asked.device_note


def test_the_command_line_says_which_device_runs(weights_dir, tmp_path, capsys):
    assert main(["embed", "--text", "water", "--weights", str(weights_dir), "--out", str(tmp_path / "t.npz")]) == 0
    assert "device: CPU" in capsys.readouterr().out
