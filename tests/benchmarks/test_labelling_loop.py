"""The labelling-loop benchmark end to end with an untrained model, a few frames and seconds of fine-tuning."""

import json
from pathlib import Path

import pytest

from labelling_loop import CLIP_FPS, CLIP_SEED, CLIP_SIZE, format_table, run_labelling_loop
from ssdlite.checkpoint import save_checkpoint
from ssdlite.config import AugmentConfig, Config, DataConfig, ModelConfig, TrainConfig, TrainerConfig
from ssdlite.data.synthetic_video import moving_scene
from ssdlite.model.build import build_model

pytestmark = pytest.mark.slow
CLASSES = ("person", "bicycle", "car", "motorcycle", "bus", "truck")


def test_a_round_prelabels_corrects_and_finetunes_on_the_corrected_frames(tmp_path):
    model_config = ModelConfig(image_size=(96, 160), width_mult=0.35)
    first = tmp_path / "first.ckpt"
    save_checkpoint(first, build_model(model_config, num_classes=len(CLASSES) + 1), Config(model=model_config), CLASSES)
    recipe = Config(
        model=model_config,
        data=DataConfig(
            classes=CLASSES,
            augment=AugmentConfig(photometric=False, zoom_out_max=1.0, min_iou_crop=False, hflip=False),
            batch_size=4,
            num_workers=0,
        ),
        train=TrainConfig(optimizer="adamw", lr=1e-3, warmup_steps=2, ema=False),
        trainer=TrainerConfig(accelerator="cpu", log_every_n_steps=1),
    )
    work_dir = tmp_path / "loop"
    results = run_labelling_loop(
        checkpoint=first,
        finetune_config=recipe,
        rounds=1,
        frames_per_round=4,
        finetune_minutes=0.05,
        work_dir=work_dir,
        every=2,  # the tracker sees 8 frames a round, 4 are labelled
    )

    before, after = results["rounds"]
    assert before["checkpoint"] == str(first) and after["checkpoint"] == str(work_dir / "finetune_0" / "best.ckpt")
    assert Path(after["checkpoint"]).is_file()
    objects = [
        objects for _, objects in moving_scene(CLIP_SEED, image_size=CLIP_SIZE, scene="footage", num_frames=24, fps=CLIP_FPS)
    ]
    assert before["corrections"]["final_boxes"] == sum(map(len, objects[0:8:2]))
    assert after["corrections"]["final_boxes"] == sum(map(len, objects[8:16:2]))
    # nothing an untrained model finds scores 0.5: every box is drawn from nothing
    assert before["prelabels"]["kept"] == 0 and before["corrections"]["added"] == before["corrections"]["final_boxes"]
    assert before["corrections"]["fraction"] == 1.0
    corrected = json.loads((work_dir / "corrected_0.json").read_text())
    assert [image["id"] for image in corrected["images"]] == [1, 3, 5, 7]
    assert len(corrected["annotations"]) == before["corrections"]["final_boxes"]
    held_out = json.loads((work_dir / "held_out.json").read_text())
    assert [image["id"] for image in held_out["images"]] == [17, 19, 21, 23]
    assert 0 <= after["metrics"]["AP"] <= 100
    assert len(format_table(results).splitlines()) == 5
