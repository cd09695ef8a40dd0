"""Predictor, ONNX export and infer.py on the model the overfit test memorises."""

import json
from pathlib import Path

import cv2
import numpy as np
import onnxruntime
import pytest
import torch
from overfit import IMAGE_SIZE, make_batch, same
from PIL import Image
from tool_process import error_line, run_tool

from ssdlite.config import Config, ModelConfig
from ssdlite.inference import Detector, predictor
from ssdlite.inference.export import check_onnx, export_onnx
from ssdlite.inference.runtimes import DeviceError
from ssdlite.inference.runtimes.onnx import OnnxRuntime
from ssdlite.inference.runtimes.openvino import OpenVINORuntime

CLASSES = ("red", "green", "blue")
pytestmark = pytest.mark.slow


def export_raw(model, path: Path) -> Path:
    """The memorised model as an ONNX file with raw outputs and a dynamic batch."""
    return export_onnx(model, Config(model=ModelConfig(image_size=IMAGE_SIZE, width_mult=0.5)), CLASSES, path, dynamic_batch=True)


def test_path_array_pil_and_list_give_identical_detections(trained):
    checkpoint, _, arrays, folder = trained
    detector = Detector.load(checkpoint)
    from_folder = list(detector.predict(folder, score_threshold=0.3))
    from_arrays = detector.predict(arrays, score_threshold=0.3)
    one_by_one = [next(detector.predict(str(folder / f"{i}.png"), score_threshold=0.3)) for i in range(4)]
    from_pil = detector.predict([Image.fromarray(a) for a in arrays], score_threshold=0.3)
    from_bgr = detector.predict([a[:, :, ::-1] for a in arrays], score_threshold=0.3, bgr=True)
    for other in (from_arrays, one_by_one, from_pil, from_bgr):
        same(from_folder, other)
    assert all(len(d.labels) == 2 for d in from_folder)  # the two memorised boxes, nothing else
    assert from_folder[0].class_names == [CLASSES[label - 1] for label in from_folder[0].labels]


def test_filters_and_result_formats(trained):
    checkpoint, _, arrays, _ = trained
    detector = Detector.load(checkpoint)
    (only_red,) = detector.predict(arrays[0], score_threshold=0.3, classes=["red"])
    assert set(only_red.class_names) <= {"red"}
    (one,) = detector.predict(arrays[0], max_detections=1)
    assert len(one.scores) == 1
    record = one.to_dict()
    assert json.loads(json.dumps(record))["class_names"] == one.class_names
    (coco,) = one.to_coco(image_id=9, label_to_category_id={1: 1, 2: 3, 3: 8})
    x0, y0, x1, y1 = one.boxes[0]
    assert coco["image_id"] == 9 and coco["bbox"] == pytest.approx([x0, y0, x1 - x0, y1 - y0], abs=1e-3)  # 3 decimals
    with pytest.raises(ValueError, match="unknown classes"):
        detector.predict(arrays[0], classes=["purple"])
    # every backend takes the same limits: OpenVINO gets them as inputs of its compiled NMS
    with pytest.raises(ValueError, match=r"score_threshold = 1.5: a score threshold must lie in \[0, 1\]"):
        detector.predict(arrays[0], score_threshold=1.5)
    for bad in (0, -1, 2.5):
        with pytest.raises(ValueError, match=f"max_detections = {bad}: give a whole number of at least 1"):
            detector.predict(arrays[0], max_detections=bad)


def test_wanted_classes_are_chosen_before_the_detection_cap(trained):
    checkpoint, _, arrays, _ = trained
    detector = Detector.load(checkpoint)
    (both,) = detector.predict(arrays[0], score_threshold=0.3)
    second = both.class_names[1]
    assert both.class_names[0] != second  # a cap of 1 keeps the other class's box
    (only,) = detector.predict(arrays[0], score_threshold=0.3, classes=[second], max_detections=1)
    assert only.class_names == [second]
    np.testing.assert_allclose(only.boxes, both.boxes[1:], atol=1e-4)


def test_anchors_are_on_the_device_of_the_network(trained):
    """Without a GPU, "meta" stands in for a device other than the CPU."""
    checkpoint, *_ = trained
    model = Detector.load(checkpoint, device="meta").runtime.model
    cls_logits, _ = model(torch.zeros(1, 3, *IMAGE_SIZE, device="meta"))
    assert model.anchors.device == next(model.parameters()).device == cls_logits.device == torch.device("meta")


def test_an_unavailable_device_is_refused_naming_it(trained, tmp_path):
    checkpoint, model, _, _ = trained
    for device in ("cuda:7", "tpu"):
        with pytest.raises(DeviceError, match=f"device '?{device}'? is (not available|unknown)"):
            Detector.load(checkpoint, device=device)
    raw = export_raw(model, tmp_path / "raw.onnx")
    with pytest.raises(ValueError, match="OpenVINO runs on the CPU"):
        OpenVINORuntime.open(raw, device=torch.device("cuda"), precision="fp32")
    if "CUDAExecutionProvider" not in onnxruntime.get_available_providers():
        with pytest.raises(ValueError, match="no CUDA provider; install onnxruntime-gpu"):
            OnnxRuntime.open(raw, device=torch.device("cuda"), precision="fp32")


def test_bf16_in_pytorch_finds_the_memorised_boxes(trained):
    """torch's bf16 autocast runs on any CPU (slowly without bf16 arithmetic): the path is exercised here."""
    checkpoint, _, arrays, _ = trained
    expected = list(Detector.load(checkpoint).predict(arrays, score_threshold=0.3))
    got = list(Detector.load(checkpoint, precision="bf16").predict(arrays, score_threshold=0.3))
    assert [d.labels.tolist() for d in got] == [d.labels.tolist() for d in expected]
    for x, y in zip(got, expected):
        np.testing.assert_allclose(x.boxes, y.boxes, atol=2.0)  # bf16 keeps 8 bits of mantissa
    with pytest.raises(ValueError, match="precision 'int8'.*tools/export.py --int8"):
        Detector.load(checkpoint, precision="int8")


def test_predict_streams_and_checks_its_settings_first(trained):
    checkpoint, _, arrays, _ = trained
    detector = Detector.load(checkpoint)
    consumed = []

    def frames():
        for array in arrays:
            consumed.append(len(consumed))
            yield array

    stream = detector.predict(frames(), batch_size=1)
    assert consumed == [] and len(next(stream).labels) >= 2 and consumed == [0]  # one batch read, one result
    assert len(list(stream)) == 3
    with pytest.raises(ValueError, match="unknown classes"):
        detector.predict(frames(), classes=["purple"])  # before any frame is read


@pytest.mark.skipif(not torch.cuda.is_available(), reason="needs a CUDA GPU")
def test_detector_on_cuda_matches_the_cpu(trained):
    checkpoint, _, arrays, _ = trained
    on_gpu = Detector.load(checkpoint, device="cuda")
    assert on_gpu.runtime.model.anchors.device.type == "cuda"
    same(on_gpu.predict(arrays, score_threshold=0.3), Detector.load(checkpoint).predict(arrays, score_threshold=0.3))


def test_unreadable_inputs(trained, tmp_path, caplog):
    checkpoint, _, arrays, folder = trained
    detector = Detector.load(checkpoint)
    mixed = tmp_path / "mixed"
    mixed.mkdir()
    (mixed / "broken.png").write_bytes(b"not an image")
    cv2.imwrite(str(mixed / "ok.png"), arrays[0][:, :, ::-1])
    results = list(detector.predict(mixed))
    assert [Path(r.source).name for r in results] == ["ok.png"] and "broken.png" in caplog.text
    with pytest.raises(ValueError, match="cannot read image"):
        list(detector.predict(mixed / "broken.png"))


def test_onnx_export_parity_and_onnx_detector(trained, tmp_path):
    checkpoint, model, arrays, folder = trained
    images, _ = make_batch()
    raw = export_raw(model, tmp_path / "raw.onnx")
    for batch in (images[:1], images[:3]):
        report = check_onnx(model, raw, batch, nms=False)
        assert report["cls_logits"] < 1e-4 and report["bbox_regression"] < 1e-4
    expected = list(Detector.load(checkpoint).predict(folder))
    same(expected, Detector.load(raw, backend="onnxruntime").predict(folder))
    config = Config(model=ModelConfig(image_size=IMAGE_SIZE, width_mult=0.5))
    with_nms = export_onnx(model, config, CLASSES, tmp_path / "nms.onnx", nms=True, dynamic_batch=True)
    for batch in (images[:1], images[1:4]):
        report = check_onnx(model, with_nms, batch, nms=True)
        assert report["labels"] == 0 and report["boxes"] < 1e-3
    # the --nms file is the raw graph with the post-processing every runtime appends: it loads in both
    for backend in ("onnxruntime", "openvino"):
        detector = Detector.load(with_nms, backend=backend)
        same(expected, detector.predict(folder))
        same(
            list(Detector.load(checkpoint).predict(folder, classes=["green"], max_detections=1)),
            detector.predict(folder, classes=["green"], max_detections=1),
        )


def test_the_tools_run_torch_on_one_thread_beside_an_exported_network(trained, tmp_path):
    # tools/infer.py and tools/track.py: torch's idle threads would spin beside the runtime's
    checkpoint, model, _, _ = trained
    threads = torch.get_num_threads()
    torch.set_num_threads(2)
    try:
        predictor.leave_the_cores_to_the_runtime(Detector.load(checkpoint))
        assert torch.get_num_threads() == 2  # PyTorch runs the network itself: it keeps its threads
        predictor.leave_the_cores_to_the_runtime(Detector.load(export_raw(model, tmp_path / "raw.onnx"), backend="onnxruntime"))
        assert torch.get_num_threads() == 1
    finally:
        torch.set_num_threads(threads)


def test_export_keeps_the_model_in_its_mode(trained, tmp_path):
    _, model, _, _ = trained
    config = Config(model=ModelConfig(image_size=IMAGE_SIZE, width_mult=0.5))
    try:
        for training in (True, False):
            model.train(training)
            path = export_onnx(model, config, CLASSES, tmp_path / f"train_{training}.onnx", nms=True)
            assert all(m.training == training for m in model.modules()), f"export of a model with training={training}"
            check_onnx(model, path, make_batch()[0][:1], nms=True)
            assert all(m.training == training for m in model.modules()), f"check of a model with training={training}"
    finally:
        model.eval()


def test_export_tool_checks_itself(trained, tmp_path):
    checkpoint, *_ = trained
    result = run_tool("tools/export.py", "--checkpoint", checkpoint, "--dynamic-batch", "--out", tmp_path / "m.onnx")
    assert result.returncode == 0, result.stderr
    assert "batch 3: max |PyTorch - onnxruntime|" in result.stdout and (tmp_path / "m.onnx").is_file()


def test_infer_tool_on_a_clip_keeps_every_frame(trained, tmp_path):
    checkpoint, _, arrays, _ = trained
    clip = tmp_path / "clip.mp4"
    writer = cv2.VideoWriter(str(clip), cv2.VideoWriter_fourcc(*"mp4v"), 5, (160, 160))
    for index in range(10):
        writer.write(np.ascontiguousarray(arrays[index % 4][:, :, ::-1]))
    writer.release()
    result = run_tool(
        "tools/infer.py",
        "--checkpoint",
        checkpoint,
        "--source",
        clip,
        "--out",
        tmp_path / "out",
        "--every",
        2,
        "--score-threshold",
        0.01,
    )
    assert result.returncode == 0, result.stderr
    capture = cv2.VideoCapture(str(tmp_path / "out" / "clip.mp4"))
    frames = 0
    while capture.read()[0]:
        frames += 1
    assert frames == 10 and capture.get(cv2.CAP_PROP_FPS) == 5
    records = [json.loads(line) for line in (tmp_path / "out" / "detections.jsonl").read_text().splitlines()]
    assert [r["frame"] for r in records] == [0, 2, 4, 6, 8]
    assert all(r["labels"] and len(r["boxes"]) == len(r["scores"]) == len(r["class_names"]) for r in records)


def test_infer_tool_on_a_folder_and_a_bad_video(trained, tmp_path):
    checkpoint, _, _, folder = trained
    run = lambda source, out: run_tool("tools/infer.py", "--checkpoint", checkpoint, "--source", source, "--out", out)  # noqa: E731
    result = run(folder, tmp_path / "images")
    assert result.returncode == 0, result.stderr
    assert sorted(p.name for p in (tmp_path / "images").glob("*.jpg")) == ["0.jpg", "1.jpg", "2.jpg", "3.jpg"]
    assert len((tmp_path / "images" / "detections.jsonl").read_text().splitlines()) == 4
    (tmp_path / "bad.mp4").write_bytes(b"\x00" * 100)
    result = run(tmp_path / "bad.mp4", tmp_path / "video")
    error_line(result, tmp_path / "bad.mp4")
    result = run_tool("tools/infer.py", "--checkpoint", checkpoint, "--source", folder, "--out", tmp_path, "--device", "cuda:7")
    error_line(result, "cuda:7", "--device cpu")
